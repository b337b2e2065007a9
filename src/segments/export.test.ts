import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { recordConsent } from '../ingest/index.js';
import { isoCountry } from '../shared/countries.js';
import {
  audienceCsv,
  audienceExport,
  countryCode,
  e164Phone,
  exportCustomers,
  membersCsv,
  normaliseAudienceName,
  normaliseAudiencePhone,
  normaliseGoogleEmail,
} from './export.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const customer = {
  id: 7,
  email: '  Test@Example.com ',
  phone: '+44 20 7946 0958',
  first_name: 'Zoë-Anne',
  last_name: "O'Neil",
  city: 'Milton Keynes',
  country: 'United Kingdom',
  postcode: 'MK9 2FX',
};

test('the Meta layout hashes normalised values in its own columns', () => {
  // The SHA-256 of "test@example.com", as platforms' documentation shows it.
  assert.equal(sha('test@example.com'), '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b');
  const [header, row] = audienceCsv([customer], 'meta').trim().split('\n');
  assert.equal(header, 'email,phone,fn,ln,ct,country,zip');
  assert.deepEqual(row!.split(','), [
    sha('test@example.com'),
    sha('442079460958'),
    sha('zoëanne'),
    sha('oneil'),
    sha('miltonkeynes'),
    sha('gb'),
    sha('mk92fx'),
  ]);
});

test('the Google layout hashes e-mail, E.164 phone and names, and keeps country and zip plain', () => {
  const [header, row] = audienceCsv([customer], 'google').trim().split('\n');
  assert.equal(header, 'Email,Phone,First Name,Last Name,Country,Zip');
  assert.deepEqual(row!.split(','), [
    sha('test@example.com'),
    sha('+442079460958'),
    sha('zoëanne'),
    sha('oneil'),
    'GB',
    'MK9 2FX',
  ]);
});

test('phones become E.164 with the customer country: national numbers, a (0) trunk, a 00 prefix', () => {
  // Written out by hand from the numbering plans: GB drops the trunk 0, KR drops the trunk 0.
  assert.equal(e164Phone('07700 900123', 'GB'), '+447700900123');
  assert.equal(e164Phone('07700 900123', 'United Kingdom'), '+447700900123');
  assert.equal(e164Phone('010-1234-5678', 'Korea, Republic of'), '+821012345678');
  assert.equal(e164Phone('+44 (0)20 7946 0958', null), '+442079460958');
  assert.equal(e164Phone('0044 20 7946 0958', null), '+442079460958');
  assert.equal(e164Phone('(0044) 20 7946 0958', 'FR'), '+442079460958');
  assert.equal(normaliseAudiencePhone('+44 (0)20 7946 0958'), '442079460958');
  // A national number without a country, and a number too short for its plan, are not guessed.
  assert.equal(e164Phone('020 7946 0958', null), null);
  assert.equal(e164Phone('0794', 'GB'), null);
  assert.equal(e164Phone('   ', 'GB'), null);
  const gb = audienceCsv([{ ...customer, phone: '07700 900123', email: null }], 'meta')
    .trim()
    .split('\n')[1]!;
  assert.equal(gb.split(',')[1], sha('447700900123'));
  const kr = audienceCsv([{ ...customer, phone: '010-1234-5678', country: 'KR', email: null }], 'google')
    .trim()
    .split('\n')[1]!;
  assert.deepEqual([kr.split(',')[1], kr.split(',')[4]], [sha('+821012345678'), 'KR']);
});

test('countries: names and aliases read as ISO 3166-1 alpha-2', () => {
  const cases: Array<[string, string | null]> = [
    ['UK', 'GB'],
    ['uk', 'GB'],
    [' United Kingdom ', 'GB'],
    ['Korea, Republic of', 'KR'],
    ['South Korea', 'KR'],
    ['EIRE', 'IE'],
    ['RSA', 'ZA'],
    ['USA', 'US'],
    ['Czech Republic', 'CZ'],
    ['de', 'DE'],
    ['Atlantis', null],
    ['European Community', null],
    ['', null],
  ];
  for (const [text, code] of cases) assert.equal(isoCountry(text), code, text);
  assert.equal(countryCode('UK'), 'gb');
  const row = audienceCsv([{ ...customer, country: 'UK' }], 'meta')
    .trim()
    .split('\n')[1]!;
  assert.equal(row.split(',')[5], sha('gb'));
  assert.equal(
    audienceCsv([{ ...customer, country: 'UK' }], 'google')
      .trim()
      .split('\n')[1]!
      .split(',')[4],
    'GB',
  );
});

test('names keep their combining marks, lose punctuation and case', () => {
  // प्रिया is प ् र ि य ा: six code points, of which three are combining marks (U+094D, U+093F, U+093E).
  assert.equal(normaliseAudienceName('प्रिया'), 'प\u094Dर\u093Fय\u093E');
  assert.equal([...(normaliseAudienceName('प्रिया') ?? '')].length, 6);
  assert.equal(normaliseAudienceName(' Jean-Luc '), 'jeanluc');
  assert.equal(normaliseAudienceName('ZOË'), 'zoë');
  // NFD input reads as its NFC form.
  assert.equal(normaliseAudienceName('Zoe\u0308'), 'zoë');
  assert.equal(normaliseAudienceName('..'), null);
  const row = audienceCsv([{ ...customer, first_name: 'प्रिया' }], 'meta')
    .trim()
    .split('\n')[1]!;
  assert.equal(row.split(',')[2], sha('प्रिया'));
});

test('Google e-mails: dots and +suffix removed for gmail.com and googlemail.com only', () => {
  assert.equal(normaliseGoogleEmail(' Jane.Doe+shop@Gmail.com '), 'janedoe@gmail.com');
  assert.equal(normaliseGoogleEmail('j.a.n.e@googlemail.com'), 'jane@googlemail.com');
  assert.equal(normaliseGoogleEmail('jane.doe+x@example.com'), 'jane.doe+x@example.com');
  const google = audienceCsv([{ ...customer, email: 'Jane.Doe+shop@gmail.com' }], 'google')
    .trim()
    .split('\n')[1]!;
  assert.equal(google.split(',')[0], sha('janedoe@gmail.com'));
  // Meta does not ask for it: the address is only trimmed and lower-cased.
  const meta = audienceCsv([{ ...customer, email: 'Jane.Doe+shop@gmail.com' }], 'meta')
    .trim()
    .split('\n')[1]!;
  assert.equal(meta.split(',')[0], sha('jane.doe+shop@gmail.com'));
});

test('customers nobody can match, and those who refused marketing, are left out', () => {
  const none = audienceExport([{ ...customer, email: null, phone: '0794' }]);
  assert.deepEqual([none.rows, none.unmatchable, none.csv.trim().split('\n').length], [0, 1, 1]);
  const refused = { ...customer, id: 8, refusedMarketing: true };
  const byDefault = audienceExport([customer, refused], 'google');
  assert.deepEqual([byDefault.rows, byDefault.refused], [1, 1]);
  const included = audienceExport([customer, refused], 'google', { includeRefused: true });
  assert.deepEqual([included.rows, included.refused], [2, 0]);
  assert.equal(membersCsv([customer]).split('\n')[0], 'customer_id,email,phone,first_name,last_name,city,country');
});

for (const dialect of DIALECTS) {
  describe(`audience export from the store on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('reads the postcode field and who refused marketing', async () => {
      const db = t.store.db;
      const yes = await addCustomer(db, { email: 'yes@example.com', country: 'UK' });
      const no = await addCustomer(db, { email: 'no@example.com', country: 'UK' });
      const silent = await addCustomer(db, { email: 'silent@example.com' });
      await db.updateTable('customers').set({ postcode: 'SW1A 1AA' }).where('id', '=', yes).execute();
      await recordConsent(db, yes, { channel: 'email', granted: true, at: 1, source: 'test' });
      await recordConsent(db, no, { channel: 'email', granted: true, at: 1, source: 'test' });
      await recordConsent(db, no, { channel: 'sms', granted: false, at: 2, source: 'test' });
      const customers = await exportCustomers(db, [silent, no, yes]);
      assert.deepEqual(
        customers.map((c) => [c.id, c.postcode, c.refusedMarketing]),
        [
          [yes, 'SW1A 1AA', false],
          [no, null, true],
          [silent, null, false],
        ],
      );
      const out = audienceExport(customers, 'google');
      assert.deepEqual([out.rows, out.refused], [2, 1]);
      const lines = out.csv.trim().split('\n').slice(1);
      assert.deepEqual(
        lines.map((l) => l.split(',').slice(4)),
        [
          ['GB', 'SW1A 1AA'],
          ['', ''],
        ],
      );
    });
  });
}
