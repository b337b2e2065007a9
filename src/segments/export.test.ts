import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { audienceCsv, countryCode, membersCsv, normaliseAudiencePhone } from './export.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const customer = {
  id: 7,
  email: '  Test@Example.com ',
  phone: '+44 20 7946 0958',
  first_name: 'Zoë-Anne',
  last_name: "O'Neil",
  city: 'Milton Keynes',
  country: 'United Kingdom',
};

test('the Meta layout hashes normalised values in its own columns', () => {
  // The SHA-256 of "test@example.com", as platforms' documentation shows it.
  assert.equal(sha('test@example.com'), '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b');
  const [header, row] = audienceCsv([customer], 'meta').trim().split('\n');
  assert.equal(header, 'email,phone,fn,ln,ct,country');
  assert.deepEqual(row!.split(','), [
    sha('test@example.com'),
    sha('442079460958'),
    sha('zoëanne'),
    sha('oneil'),
    sha('miltonkeynes'),
    sha('gb'),
  ]);
});

test('the Google layout hashes e-mail, E.164 phone and names, and keeps the country plain', () => {
  const [header, row] = audienceCsv([customer], 'google').trim().split('\n');
  assert.equal(header, 'Email,Phone,First Name,Last Name,Country,Zip');
  assert.deepEqual(row!.split(','), [
    sha('test@example.com'),
    sha('+442079460958'),
    sha('zoëanne'),
    sha('oneil'),
    'GB',
    '',
  ]);
});

test('customers nobody can match are left out; phones without a country code are not guessed', () => {
  assert.equal(normaliseAudiencePhone('020 7946 0958'), null);
  assert.equal(countryCode('EIRE'), 'ie');
  assert.equal(countryCode('Atlantis'), null);
  const csv = audienceCsv([{ ...customer, email: null, phone: '07946 0958' }]);
  assert.equal(csv.trim().split('\n').length, 1);
  assert.equal(membersCsv([customer]).split('\n')[0], 'customer_id,email,phone,first_name,last_name,city,country');
});
