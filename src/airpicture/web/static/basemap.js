// airpicture COP page: the basemap (land, coastlines, country borders from world-atlas, as
// airpicture/web/basemap.py serves them) as shapes (shapes.js) that the track layer draws
// under its tracks, into its frame cache (tracklayer.js, framecache.js). A pan or zoom then
// moves one texture instead of MapLibre drawing its tiled land and lines again: with
// software GL that was about 15 ms of CPU a frame, more than the tracks. The sea is the map
// element's CSS background (cop.css).
/* global Shapes */
"use strict";

const Basemap = (() => {
  // Natural Earth 1:110M below this zoom, 1:50M from it: at a whole-region zoom the 1:50M
  // coast is a dozen times the vertices for no visible detail.
  const FINE_ZOOM = 3;
  const RESOLUTIONS = ["110m", "50m"];
  // alpha: a 1-px line standing for MapLibre's former 0.8-px coast and 0.6-px borders at 0.8
  // opacity
  const RGBA = { land: [34, 50, 64, 255], coast: [79, 107, 128, 204],
    borders: [91, 115, 133, 128] };

  // One resolution's shapes from its GeoJSON (features named by their "layer" property):
  // land polygons in one group (they do not overlap), coast and borders lines.
  function build(doc) {
    const shapes = new Shapes();
    for (const { properties, geometry } of doc.features) {
      const kind = properties.layer;
      for (const part of geometry.coordinates) {
        if (kind === "land") shapes.polygon(part, RGBA.land); else shapes.line(part, RGBA[kind]);
      }
    }
    return shapes;
  }

  class Basemap {
    constructor() {
      this.sets = {};     // resolution -> Shapes
      this.version = 0;   // counts loads (a frame cache drawn before one is stale)
    }

    // Fetches both resolutions (getJSON: the page's fetch helper).
    async load(getJSON) {
      await Promise.all(RESOLUTIONS.map(async (res) => {
        this.sets[res] = build(await getJSON(`/api/basemap/all?resolution=${res}`));
      }));
      this.version += 1;
    }

    resolution(zoom) { return zoom < FINE_ZOOM ? RESOLUTIONS[0] : RESOLUTIONS[1]; }

    // The shapes drawn at zoom, or null before they have loaded.
    at(zoom) { return this.sets[this.resolution(zoom)] || null; }

    // What a frame at zoom shows of the basemap (resolution and load), to tell a frame cache
    // drawn with other shapes.
    key(zoom) { return `${this.resolution(zoom)}/${this.version}`; }

    release(gl) { for (const shapes of Object.values(this.sets)) shapes.release(gl); }
  }

  return Basemap;
})();
