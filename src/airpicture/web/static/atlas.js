// airpicture COP page: the images of the track layer's texture atlas (tracklayer.js).
/* global ms */
"use strict";

const SYMBOL_SIZE = 16;  // milsymbol size (CSS px of the frame's height, about)

// Atlas cells, each [name, (ratio) => {canvas, ax, ay}] (an image and its anchor, device
// px): one milsymbol air-track icon per standard identity and kind (named identity/kind),
// a ghost ring and the selection ring. Kinds: "present" (confirmed), "coasting" (dimmed),
// "tentative" (dashed frame: MIL-STD-2525 status A, anticipated).
function ring(radius, stroke, width, fill) {
  return (ratio) => {
    const size = Math.ceil(2 * (radius + width) * ratio) + 2;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = stroke; ctx.lineWidth = width * ratio;
    ctx.beginPath(); ctx.arc(size / 2, size / 2, radius * ratio, 0, 2 * Math.PI);
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    ctx.stroke();
    return { canvas, ax: size / 2, ay: size / 2 };
  };
}

function atlasCells(identities, affiliation) {
  const cells = [];
  const kinds = { present: ["P", 1], coasting: ["P", 0.55], tentative: ["A", 1] };
  for (const id of identities) {
    for (const [kind, [status, alpha]] of Object.entries(kinds)) {
      cells.push([`${id}/${kind}`, (ratio) => {
        const sym = new ms.Symbol(`S${affiliation[id]}A${status}-----------`,
          { size: SYMBOL_SIZE, fill: true });
        const drawn = sym.asCanvas(ratio);
        const canvas = document.createElement("canvas");
        canvas.width = drawn.width; canvas.height = drawn.height;
        const ctx = canvas.getContext("2d");
        ctx.globalAlpha = alpha;
        ctx.drawImage(drawn, 0, 0);
        const a = sym.getAnchor();
        return { canvas, ax: a.x * ratio, ay: a.y * ratio };
      }]);
    }
  }
  cells.push(["ghost", ring(4, "rgba(138,153,166,0.7)", 1)]);
  cells.push(["selected", ring(16, "#ffffff", 2, "rgba(255,255,255,0.08)")]);
  return cells;
}
