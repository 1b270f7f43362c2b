// Package compose is the live viewer's compositor: it lays a Scene
// (filled rectangles, images with heat maps over them, line segments and
// text in a built-in bitmap font) into a BGRA8 frame, on the device with
// shaders/compose.comp (Composer) or on the CPU (Render, the reference,
// which gives the same bytes).
//
//	c, err := compose.NewComposer(d)
//	frame, err := c.Compose(&compose.Scene{Width: 640, Height: 400, Background: 0x101418,
//		Lines: []compose.Line{{X0: 10, Y0: 10, X1: 300, Y1: 200, Width: 2, Color: 0xFFCC00}},
//		Texts: []compose.Text{{X: 10, Y: 380, Scale: 1, Color: 0xFFFFFF, S: "epoch 12"}}})
//	// frame is a *gpu.Buffer: present it (gpu/window) or read it back
//
// What a scene shows is decided by noether/view; this package knows
// pixels only. The shader runs two passes: one invocation per mark (a
// segment or a glyph) marks the pixels it covers in an overlay with
// atomicMax of its index, so that later marks win whatever order the
// invocations run in; then one invocation per pixel draws the background,
// rectangles, images and the overlay's mark. All arithmetic is integer,
// so the device and the CPU reference agree to the byte.
package compose
