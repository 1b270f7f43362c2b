package window

/*
#cgo CFLAGS: -O2 -std=gnu11
#include <stdlib.h>
#include "swapchain.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
	vk "github.com/vulkan-go/vulkan"

	"github.com/noether-vk/noether-vk/gpu"
)

// ErrNoDisplay is wrapped by Open's error when there is no display to
// open a window on.
var ErrNoDisplay = errors.New("no display")

// ErrStale is returned by Present when the window changed size or its
// surface went out of date: the swapchain was recreated, and the frame
// must be composed again at the new Extent.
var ErrStale = errors.New("window: the swapchain changed; compose the frame again at the new extent")

// haveDisplay checks for a display before GLFW does: without one
// glfw.Init logs an error yet returns nil, and the next call panics.
func haveDisplay() error {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return fmt.Errorf("%w: DISPLAY is not set; the viewer needs an X server (on a headless machine run it under xvfb-run), or write the frames as PNG files instead with --frames DIR", ErrNoDisplay)
	}
	return nil
}

// Config says what window to open.
type Config struct {
	Title         string
	Width, Height int // the initial size in pixels
	// Device chooses and configures the device (Present is set by Open).
	Device gpu.Options
}

// Key names a pressed key: "a".."z", "0".."9", "space", "escape",
// "enter", "left", "right", "up", "down". Other keys are not reported.
type Key string

// Window is an open window with its device and swapchain.
type Window struct {
	win     *glfw.Window
	dev     *gpu.Device
	sc      *C.nwin
	keys    []Key
	resized bool // the framebuffer changed size, or the surface said so
	swaps   int  // swapchains created
	closed  bool
}

// Open initialises GLFW, opens a window and a device that can present to
// it, and creates the swapchain.
func Open(c Config) (*Window, error) {
	if err := haveDisplay(); err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return nil, fmt.Errorf("window: size %dx%d: want positive sides", c.Width, c.Height)
	}
	if err := glfw.Init(); err != nil {
		return nil, fmt.Errorf("window: GLFW could not initialise on display %q: %w; check that the X server runs (or use --frames DIR)", os.Getenv("DISPLAY"), err)
	}
	if !glfw.VulkanSupported() {
		glfw.Terminate()
		return nil, fmt.Errorf("window: GLFW found no Vulkan loader able to present: install libvulkan1 and a driver (make deps)")
	}
	glfw.WindowHint(glfw.ClientAPI, glfw.NoAPI)
	glfw.WindowHint(glfw.Resizable, glfw.True)
	win, err := glfw.CreateWindow(c.Width, c.Height, c.Title, nil, nil)
	if err != nil {
		glfw.Terminate()
		return nil, fmt.Errorf("window: creating a %dx%d window: %w", c.Width, c.Height, err)
	}
	w := &Window{win: win, resized: true}
	o := c.Device
	o.Present = &gpu.Presentation{
		InstanceExtensions: win.GetRequiredInstanceExtensions(),
		Surface: func(instance unsafe.Pointer) (unsafe.Pointer, error) {
			// The binding wants a pointer-kind value and returns the
			// address of the handle it wrote.
			p, err := win.CreateWindowSurface((*byte)(instance), nil)
			if err != nil {
				return nil, err
			}
			return unsafe.Pointer(vk.SurfaceFromPointer(p)), nil
		},
	}
	if w.dev, err = gpu.Open(o); err != nil {
		w.Close()
		return nil, fmt.Errorf("window: %w", err)
	}
	h := w.dev.Handles()
	w.sc = (*C.nwin)(C.calloc(1, C.sizeof_nwin))
	r := C.nwin_init(w.sc, C.PFN_vkGetInstanceProcAddr(h.GetInstanceProcAddr), C.VkInstance(h.Instance),
		C.VkPhysicalDevice(h.PhysicalDevice), C.VkDevice(h.Device), C.VkSurfaceKHR(h.Surface), C.uint32_t(h.QueueFamily))
	if err := check("creating the frame's command buffer, fence and semaphore", r); err != nil {
		w.Close()
		return nil, err
	}
	win.SetKeyCallback(func(_ *glfw.Window, key glfw.Key, _ int, action glfw.Action, _ glfw.ModifierKey) {
		if action == glfw.Press || action == glfw.Repeat {
			w.key(key)
		}
	})
	win.SetFramebufferSizeCallback(func(*glfw.Window, int, int) { w.resized = true })
	return w, nil
}

// check turns a VkResult of the swapchain code into an error naming what
// failed.
func check(what string, r C.VkResult) error {
	if r == C.VK_SUCCESS {
		return nil
	}
	return fmt.Errorf("window: %s: %w", what, &gpu.VkError{Call: what, Result: vk.Result(r)})
}

// namedKeys are the keys other than letters and digits that Keys reports.
var namedKeys = map[glfw.Key]Key{
	glfw.KeySpace: "space", glfw.KeyEscape: "escape", glfw.KeyEnter: "enter",
	glfw.KeyLeft: "left", glfw.KeyRight: "right", glfw.KeyUp: "up", glfw.KeyDown: "down",
}

// key queues the name of a pressed key (the key callback's path, which
// tests drive directly).
func (w *Window) key(k glfw.Key) {
	name, ok := namedKeys[k]
	switch {
	case k >= glfw.KeyA && k <= glfw.KeyZ:
		name, ok = Key(rune('a'+k-glfw.KeyA)), true
	case k >= glfw.Key0 && k <= glfw.Key9:
		name, ok = Key(rune('0'+k-glfw.Key0)), true
	}
	if ok {
		w.keys = append(w.keys, name)
	}
}

// Device is the device the window presents from; compose frames on it.
func (w *Window) Device() *gpu.Device { return w.dev }

// Note says why the device is not the one Config.Device asked for (empty
// when it is): the one asked for cannot present to this display.
func (w *Window) Note() string { return w.dev.PresentNote() }

// Poll handles the window system's events, waiting up to timeout for one
// (0: not at all). Keys pressed meanwhile are returned by Keys.
func (w *Window) Poll(timeout time.Duration) {
	if timeout <= 0 {
		glfw.PollEvents()
		return
	}
	glfw.WaitEventsTimeout(timeout.Seconds())
}

// Keys returns the keys pressed since the last call, in order.
func (w *Window) Keys() []Key {
	k := w.keys
	w.keys = nil
	return k
}

// ShouldClose reports whether the user asked to close the window.
func (w *Window) ShouldClose() bool { return w.win.ShouldClose() }

// SetSize asks the window system for a new window size; the swapchain
// follows at the next Extent once the window has it.
func (w *Window) SetSize(width, height int) { w.win.SetSize(width, height) }

// Position is the window's top-left corner on the screen.
func (w *Window) Position() (x, y int) { return w.win.GetPos() }

// Swapchains counts the swapchains created so far (the first one and
// every recreation).
func (w *Window) Swapchains() int { return w.swaps }

// Extent is the size frames must have, in pixels: the swapchain's extent,
// recreated first when the window changed size. It is 0x0 while the
// window is minimised: compose nothing then.
func (w *Window) Extent() (width, height int, err error) {
	if w.resized {
		if err := w.recreate(); err != nil {
			return 0, 0, err
		}
	}
	return int(w.sc.extent.width), int(w.sc.extent.height), nil
}

// recreate makes a swapchain at the framebuffer's size, once the queue
// has finished with the old one.
func (w *Window) recreate() error {
	if err := check("waiting for the last frame", C.nwin_wait(w.sc)); err != nil {
		return err
	}
	if err := w.idle(); err != nil {
		return err
	}
	fw, fh := w.win.GetFramebufferSize()
	var why [256]C.char
	r := C.nwin_create_swapchain(w.sc, C.uint32_t(max(fw, 0)), C.uint32_t(max(fh, 0)), &why[0], C.int(len(why)))
	if r != C.VK_SUCCESS {
		return fmt.Errorf("window: creating the swapchain: %s: %w", C.GoString(&why[0]), &gpu.VkError{Call: "creating the swapchain", Result: vk.Result(r)})
	}
	w.resized = false
	if w.sc.swapchain != nil {
		w.swaps++
	}
	return nil
}

// idle waits until the queue has finished everything, presentations
// included, so that the swapchain's images and semaphores may go.
func (w *Window) idle() error {
	err := w.dev.WithQueue(func(q unsafe.Pointer) error {
		return vkErr("vkQueueWaitIdle", C.nwin_queue_wait_idle(w.sc, C.VkQueue(q)))
	})
	if err != nil {
		return fmt.Errorf("window: waiting for the queue: %w", err)
	}
	return nil
}

// vkErr is nil or the *gpu.VkError of a failed call, unwrapped, so that
// gpu.Device.WithQueue sees a lost device.
func vkErr(call string, r C.VkResult) error {
	if r == C.VK_SUCCESS {
		return nil
	}
	return &gpu.VkError{Call: call, Result: vk.Result(r)}
}

// Present shows frame, a BGRA8 buffer of Extent's size (width*height*4
// bytes, rows top to bottom) on the window's device, and waits until the
// copy is done (the buffer may then be written again). ErrStale means the
// window changed and nothing was shown: compose again at the new Extent.
func (w *Window) Present(frame *gpu.Buffer) error {
	width, height := int(w.sc.extent.width), int(w.sc.extent.height)
	if w.resized || width == 0 || w.sc.swapchain == nil {
		return ErrStale
	}
	if want := int64(width) * int64(height) * 4; frame.Size() != want {
		return fmt.Errorf("window: Present: a frame of %d bytes for a %dx%d swapchain (want %d)", frame.Size(), width, height, want)
	}
	var index C.uint32_t
	switch r := C.nwin_acquire(w.sc, &index); r {
	case C.VK_SUCCESS:
	case C.VK_SUBOPTIMAL_KHR:
		// The semaphore is signalled: present this frame, then recreate.
		w.resized = true
	case C.VK_ERROR_OUT_OF_DATE_KHR:
		w.resized = true
		return ErrStale
	default:
		return check("vkAcquireNextImageKHR", r)
	}
	buf, off := frame.Handle()
	if err := check("recording the frame's copy", C.nwin_record(w.sc, index, C.VkBuffer(buf), C.VkDeviceSize(off))); err != nil {
		return err
	}
	var presented C.VkResult
	err := w.dev.WithQueue(func(q unsafe.Pointer) error {
		presented = C.nwin_submit_present(w.sc, C.VkQueue(q), index)
		if presented == C.VK_SUBOPTIMAL_KHR || presented == C.VK_ERROR_OUT_OF_DATE_KHR {
			return nil
		}
		return vkErr("vkQueueSubmit / vkQueuePresentKHR", presented)
	})
	if err != nil {
		return fmt.Errorf("window: presenting a frame: %w", err)
	}
	if presented != C.VK_SUCCESS {
		w.resized = true
	}
	return check("waiting for the frame's copy", C.nwin_wait(w.sc))
}

// Close destroys the swapchain, the device and the window, and terminates
// GLFW. Check Device().Messages() before it, if you want them.
func (w *Window) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	if w.sc != nil {
		errs = append(errs, check("waiting for the last frame", C.nwin_wait(w.sc)))
		if w.dev != nil {
			errs = append(errs, w.idle())
		}
		C.nwin_destroy(w.sc)
		C.free(unsafe.Pointer(w.sc))
		w.sc = nil
	}
	if w.dev != nil {
		errs = append(errs, w.dev.Close())
	}
	w.win.Destroy()
	glfw.Terminate()
	return errors.Join(errs...)
}
