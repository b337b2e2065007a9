import { randomInt } from 'node:crypto';

/** Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L). */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/**
 * An unguessable code from the crypto RNG: 10 characters of a 31-letter alphabet are about 49 bits,
 * so guessing one live code among a million takes on the order of 10^8 tries.
 */
export function randomCode(length = 10, prefix = ''): string {
  let code = prefix;
  for (let i = 0; i < length; i += 1) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}
