// Package window shows frames in a window: a GLFW window, its Vulkan
// surface and swapchain, and the copy of a composed frame into it. It is
// separate from gpu so that headless users of gpu do not initialise a
// windowing system; what a frame shows is composed elsewhere
// (kernels/compose, noether/view).
//
//	w, err := window.Open(window.Config{Title: "noether-vk", Width: 960, Height: 600})
//	if errors.Is(err, window.ErrNoDisplay) { ... } // write frames to files instead
//	defer w.Close()
//	for !w.ShouldClose() {
//		w.Poll(50 * time.Millisecond)
//		width, height := w.Extent() // recreates the swapchain after a resize
//		frame := ...                 // a BGRA8 buffer of width*height*4 bytes on w.Device()
//		err := w.Present(frame)      // ErrStale: the window changed; compose again
//	}
//
// Open opens its own gpu.Device with presentation (gpu.Options.Present):
// the device asked for when it can present to the window, else the most
// capable one that can (Window.Note says so; an NVIDIA GPU under Xvfb
// cannot, lavapipe can). Compose on Window.Device: its compute work and
// the window's copies and presents go to one queue, serialised by
// gpu.Device.WithQueue.
//
// The swapchain is B8G8R8A8_UNORM (frames are bytes B, G, R, A, and
// UNORM, unlike SRGB, keeps them as they are), opaque, its images written
// by transfer; MAILBOX when the surface offers it, else FIFO. It is
// recreated when the framebuffer's size changes and when the surface
// reports it out of date.
//
// GLFW must be called from the main OS thread: programs using this package
// call runtime.LockOSThread in an init function of package main, and make
// every call of this package from the main goroutine.
package window
