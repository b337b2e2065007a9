import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kMeans, seededRandom, standardise } from './kmeans.js';

test('k-means++ finds three well-separated blobs, the same way every run', () => {
  const random = seededRandom(3);
  const centres = [
    [0, 0],
    [10, 10],
    [-10, 10],
  ];
  const points = new Float64Array(300 * 2);
  for (let i = 0; i < 300; i++) {
    const c = centres[i % 3]!;
    points[2 * i] = c[0]! + random() - 0.5;
    points[2 * i + 1] = c[1]! + random() - 0.5;
  }
  const a = kMeans(points, 2, { k: 3, seed: 11 });
  const b = kMeans(points, 2, { k: 3, seed: 11 });
  assert.deepEqual([...a.labels], [...b.labels]);
  // Points of the same blob share a cluster, and the three blobs get three clusters.
  for (let i = 3; i < 300; i++) assert.equal(a.labels[i], a.labels[i % 3]);
  assert.equal(new Set([a.labels[0], a.labels[1], a.labels[2]]).size, 3);
  assert.ok(a.inertia < 300 * 0.5);
});

test('k is capped by the number of points, and standardising centres and scales each column', () => {
  const result = kMeans(Float64Array.from([1, 2, 3]), 1, { k: 5 });
  assert.equal(result.k, 3);
  const z = standardise(Float64Array.from([1, 5, 3, 5, 5, 5]), 2);
  assert.deepEqual(
    [...z].map((v) => Math.round(v * 1000) / 1000),
    [-1.225, 0, 0, 0, 1.225, 0],
  );
});
