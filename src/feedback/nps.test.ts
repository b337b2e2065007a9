import assert from 'node:assert/strict';
import { test } from 'node:test';
import { npsSummary } from './nps.js';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-3, `${what}: ${actual}, expected ${expected}`);

test('the interval holds the NPS printed beside it, even for one answer', () => {
  // Adjusted Wald alone: one promoter [−48.4986, 98.4986], one detractor [−98.4986, 48.4986].
  const promoter = npsSummary({ promoters: 1, passives: 0, detractors: 0 });
  assert.equal(promoter.nps, 100);
  close(promoter.interval!.low, -48.4986, 'one promoter, low');
  assert.equal(promoter.interval!.high, 100);
  const detractor = npsSummary({ promoters: 0, passives: 0, detractors: 1 });
  assert.equal(detractor.nps, -100);
  assert.equal(detractor.interval!.low, -100);
  close(detractor.interval!.high, 48.4986, 'one detractor, high');
});

test('where the adjusted-Wald interval holds the NPS it is unchanged', () => {
  // Ten passives: 0 ± 1.959964 × sqrt((1.5/13)/13) = ± 18.4650.
  const passives = npsSummary({ promoters: 0, passives: 10, detractors: 0 });
  close(passives.interval!.low, -18.465, 'ten passives, low');
  close(passives.interval!.high, 18.465, 'ten passives, high');
  // 60 promoters, 25 passives, 15 detractors: n' = 103, pP = 60.75/103, pD = 15.75/103.
  const pp = 60.75 / 103;
  const pd = 15.75 / 103;
  const se = Math.sqrt((pp + pd - (pp - pd) ** 2) / 103);
  const hundred = npsSummary({ promoters: 60, passives: 25, detractors: 15 });
  assert.equal(hundred.nps, 45);
  close(hundred.interval!.low, 100 * (pp - pd - 1.959963984540054 * se), 'hundred answers, low');
  close(hundred.interval!.high, 100 * (pp - pd + 1.959963984540054 * se), 'hundred answers, high');
});

test('every split of up to 40 answers, at every level: low ≤ NPS ≤ high within [−100, 100]', () => {
  for (const level of [0.9, 0.95, 0.99]) {
    for (let n = 1; n <= 40; n++) {
      for (let promoters = 0; promoters <= n; promoters++) {
        for (let detractors = 0; promoters + detractors <= n; detractors++) {
          const s = npsSummary({ promoters, passives: n - promoters - detractors, detractors }, level);
          const { low, high } = s.interval!;
          const what = `${promoters}/${n - promoters - detractors}/${detractors} at ${level}`;
          assert.ok(-100 <= low && low <= s.nps! && s.nps! <= high && high <= 100, `${what}: [${low}, ${high}]`);
        }
      }
    }
  }
});
