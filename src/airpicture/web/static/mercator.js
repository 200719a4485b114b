// airpicture COP page: Web-Mercator coordinates (x east, y south, both 0..1 over the world)
// as the track layer and its frame cache place things by them.
"use strict";

const Mercator = (() => {
  const mercX = (lon) => (lon + 180) / 360;
  function mercY(lat) {
    const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  const lonOf = (x) => x * 360 - 180;
  const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;

  // The mercator point (z = 0) that matrix m puts at normalised device coordinates (X, Y).
  function ndcToMerc(m, X, Y) {
    const a = m[0] - X * m[3], b = m[4] - X * m[7], e = X * m[15] - m[12];
    const c = m[1] - Y * m[3], d = m[5] - Y * m[7], f = Y * m[15] - m[13];
    const det = a * d - b * c;
    return [(e * d - b * f) / det, (a * f - e * c) / det];
  }

  // The whole worlds to draw: offsets k with [k, k + 1] overlapping mercator x0..x1.
  function worldOffsets(x0, x1) {
    const out = [];
    for (let k = Math.max(Math.floor(x0), -2); k <= Math.min(Math.floor(x1), 2); k++) out.push(k);
    return out;
  }

  return { mercX, mercY, lonOf, latOf, ndcToMerc, worldOffsets };
})();
