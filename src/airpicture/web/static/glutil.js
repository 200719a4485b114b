// airpicture COP page: WebGL helpers of the track layer and its frame cache (tracklayer.js,
// framecache.js): shader programs, texture filtering, growable vertex buffers.
"use strict";

const GLUtil = (() => {
  // A linked program of the two shaders: {prog, loc}, loc naming every active uniform's and
  // attribute's location.
  function compile(gl, vs, fs) {
    const prog = gl.createProgram();
    for (const [type, text] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) {
      const sh = gl.createShader(type);
      gl.shaderSource(sh, text);
      gl.compileShader(sh);
      if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(sh));
      gl.attachShader(prog, sh);
    }
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog));
    const loc = {};
    const n = gl.getProgramParameter(prog, gl.ACTIVE_UNIFORMS);
    for (let i = 0; i < n; i++) {
      const name = gl.getActiveUniform(prog, i).name;
      loc[name] = gl.getUniformLocation(prog, name);
    }
    const na = gl.getProgramParameter(prog, gl.ACTIVE_ATTRIBUTES);
    for (let i = 0; i < na; i++) {
      const name = gl.getActiveAttrib(prog, i).name;
      loc[name] = gl.getAttribLocation(prog, name);
    }
    return { prog, loc };
  }

  // The bound 2D texture's filter (both ways), clamped at its edges.
  function setFilter(gl, filter) {
    for (const [p, v] of [[gl.TEXTURE_MIN_FILTER, filter], [gl.TEXTURE_MAG_FILTER, filter],
      [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
      gl.texParameteri(gl.TEXTURE_2D, p, v);
    }
  }

  // Blending as the layer draws: premultiplied colours over what is there; no depth,
  // stencil or face culling.
  function blendOver(gl) {
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.disable(gl.DEPTH_TEST);
    gl.disable(gl.STENCIL_TEST);
    gl.disable(gl.CULL_FACE);
  }

  function sameMatrix(a, b) {
    for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // An array buffer that keeps its storage and grows only when an upload is larger: an
  // update is one bufferSubData.
  class VertexBuffer {
    constructor(gl) {
      this.buffer = gl.createBuffer();
      this.capacity = 0;
    }
    upload(gl, bytes) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
      if (bytes.byteLength > this.capacity) {
        gl.bufferData(gl.ARRAY_BUFFER, bytes.buffer.byteLength, gl.DYNAMIC_DRAW);
        this.capacity = bytes.buffer.byteLength;
      }
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, bytes);
    }
    bind(gl) { gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer); }
    delete(gl) { gl.deleteBuffer(this.buffer); }
  }

  return { compile, setFilter, blendOver, sameMatrix, VertexBuffer };
})();
