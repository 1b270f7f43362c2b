#version 450
// compose: the viewer's compositor. It lays a scene (a display list built
// by kernels/compose from noether/view's panels) into a BGRA8 frame.
//
// Specialization constant 3 (PASS) picks the pass:
//   0, marks:   one invocation per mark (line segment or glyph) rasterises
//               it into the overlay: overlay[pixel] = max(overlay[pixel],
//               mark index + 1). The maximum does not depend on the order
//               the invocations run in, so later marks lie on top, as in a
//               painter's algorithm, deterministically.
//   1, compose: one invocation per run of SPAN (constant 4) pixels of a
//               row: the background, the filled rectangles, the images
//               (nearest-neighbour scaled, with a heat map blended over
//               them in the jet colour map), then the mark the overlay
//               names. Writes each pixel as bytes B, G, R, A=255 (one
//               little-endian word 0xFFRRGGBB). A run reads each record
//               once: on lavapipe, reading them per pixel cost more than
//               everything else together.
// Everything is integer arithmetic, so the CPU reference
// (kernels/compose.Render) gives the same bytes.
//
// The scene buffer (all uint32):
//   header [16]: width, height, background RGB, rects, rect offset, images,
//                image offset, marks, mark offset, font offset, 0...
//   rect   [5]:  x, y, w, h, RGB
//   image  [10]: x, y, w, h, source w, source h, pixel offset, heat offset
//                (0xFFFFFFFF: none), heat alpha (0-255), 0
//   mark   [8]:  kind (0 line, 1 glyph), RGB, then
//                line:  x0, y0, x1, y1, width, 0
//                glyph: x, y, character code, scale, 0, 0
//   font   [95 x 2]: glyphs of codes 32-126; 9 rows of 5 bits, row r at
//                bit 5r (rows 0-5 in the first word, 6-8 in the second),
//                column c at bit 4-c of its row.
// Pixels are RGB words 0xRRGGBB; heat values one word each, 0-255.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
layout(constant_id = 3) const uint PASS = 0;
layout(constant_id = 4) const uint SPAN = 32; // pixels of a row per invocation in the compose pass
#include "index.glsl"

layout(push_constant) uniform Push { uint n; } p;
layout(std430, binding = 0) readonly buffer Scene { uint s[]; };
layout(std430, binding = 1) buffer Overlay { uint overlay[]; };
layout(std430, binding = 2) writeonly buffer Out { uint px[]; };

const uint MAX_STEPS = 8192u; // a line's pixels: more than any frame's diagonal

void plot(int x, int y, uint w, uint h, uint v) {
	if (x >= 0 && y >= 0 && uint(x) < w && uint(y) < h) atomicMax(overlay[uint(y) * w + uint(x)], v);
}

void line(uint m, uint w, uint h, uint v) {
	int x0 = int(s[m + 2]), y0 = int(s[m + 3]), x1 = int(s[m + 4]), y1 = int(s[m + 5]);
	int width = max(int(s[m + 6]), 1);
	int lo = -(width - 1) / 2, hi = width / 2;
	// Bresenham: every step moves one pixel along the major axis.
	int dx = abs(x1 - x0), dy = -abs(y1 - y0);
	int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
	int err = dx + dy;
	for (uint step = 0u; step < MAX_STEPS; step++) {
		for (int oy = lo; oy <= hi; oy++)
			for (int ox = lo; ox <= hi; ox++) plot(x0 + ox, y0 + oy, w, h, v);
		if (x0 == x1 && y0 == y1) break;
		int e2 = 2 * err;
		if (e2 >= dy) { err += dy; x0 += sx; }
		if (e2 <= dx) { err += dx; y0 += sy; }
	}
}

void glyph(uint m, uint w, uint h, uint v) {
	int x = int(s[m + 2]), y = int(s[m + 3]);
	uint code = s[m + 4];
	int scale = max(int(s[m + 5]), 1);
	if (code < 32u || code > 126u) code = 63u; // '?'
	uint f = s[9] + 2u * (code - 32u);
	for (uint r = 0u; r < 9u; r++) {
		uint bits = r < 6u ? s[f] >> (5u * r) : s[f + 1u] >> (5u * (r - 6u));
		for (uint c = 0u; c < 5u; c++) {
			if ((bits & (16u >> c)) == 0u) continue;
			for (int oy = 0; oy < scale; oy++)
				for (int ox = 0; ox < scale; ox++) plot(x + int(c) * scale + ox, y + int(r) * scale + oy, w, h, v);
		}
	}
}

uint jetChannel(uint heat, uint centre) {
	// 255 * clamp(1.5 - |4t - centre/255|, 0, 1) with t = heat/255.
	int d = abs(int(4u * heat) - int(centre));
	return uint(clamp((765 - 2 * d) / 2, 0, 255));
}

uint blend(uint a, uint b, uint alpha) { return (a * (255u - alpha) + b * alpha + 127u) / 255u; }

void main() {
	uint i = flat_index();
	if (i >= p.n) return;
	uint w = s[0], h = s[1];
	if (PASS == 0u) {
		if (i >= s[7]) return;
		uint m = s[8] + 8u * i;
		if (s[m] == 0u) line(m, w, h, i + 1u);
		else glyph(m, w, h, i + 1u);
		return;
	}
	// One invocation per run of SPAN pixels of a row: each rectangle's
	// and image's record is read once per run, not once per pixel.
	uint runs = (w + SPAN - 1u) / SPAN;
	int y = int(i / runs), x0 = int((i % runs) * SPAN), x1 = min(x0 + int(SPAN), int(w));
	uint rgb[SPAN];
	for (int x = x0; x < x1; x++) rgb[x - x0] = s[2];
	for (uint k = 0u; k < s[3]; k++) {
		uint r = s[4] + 5u * k;
		int rx = int(s[r]), ry = int(s[r + 1]);
		if (y < ry || y >= ry + int(s[r + 3])) continue;
		uint col = s[r + 4];
		for (int x = max(x0, rx); x < min(x1, rx + int(s[r + 2])); x++) rgb[x - x0] = col;
	}
	for (uint k = 0u; k < s[5]; k++) {
		uint g = s[6] + 10u * k;
		int gx = int(s[g]), gy = int(s[g + 1]), gw = int(s[g + 2]), gh = int(s[g + 3]);
		if (y < gy || y >= gy + gh) continue;
		uint sw = s[g + 4], sh = s[g + 5], heatAt = s[g + 7], alpha = s[g + 8];
		uint row = (uint(y - gy) * sh / uint(gh)) * sw;
		uint pix = s[g + 6] + row, heat = heatAt + row;
		for (int x = max(x0, gx); x < min(x1, gx + gw); x++) {
			uint sx = uint(x - gx) * sw / uint(gw);
			uint c = s[pix + sx];
			if (heatAt != 0xFFFFFFFFu) {
				uint h = s[heat + sx];
				uint r = blend((c >> 16) & 255u, jetChannel(h, 765u), alpha);
				uint gr = blend((c >> 8) & 255u, jetChannel(h, 510u), alpha);
				uint b = blend(c & 255u, jetChannel(h, 255u), alpha);
				c = (r << 16) | (gr << 8) | b;
			}
			rgb[x - x0] = c;
		}
	}
	uint at = uint(y) * w;
	for (int x = x0; x < x1; x++) {
		uint mark = overlay[at + uint(x)];
		uint c = mark != 0u ? s[s[8] + 8u * (mark - 1u) + 1u] : rgb[x - x0];
		px[at + uint(x)] = 0xFF000000u | (c & 0xFFFFFFu);
	}
}
