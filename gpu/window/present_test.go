package window

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/gpu/window/windowtest"
)

// pattern is a BGRA8 frame in which neighbouring pixels differ in every
// channel, so a shifted, flipped, swizzled or scaled copy cannot match.
func pattern(width, height, seed int) []byte {
	out := make([]byte, 4*width*height)
	for y := range height {
		for x := range width {
			p := out[4*(y*width+x):]
			p[0], p[1], p[2], p[3] = byte(x*3+seed), byte(y*5+seed), byte(x*7+y*11+seed), 255
		}
	}
	return out
}

// openTestWindow opens a window on a private Xvfb and closes it when the
// test ends, failing the test on any validation message.
func openTestWindow(t *testing.T, width, height int) (*Window, *windowtest.Xvfb) {
	t.Helper()
	x := windowtest.StartXvfb(t, 640, 480)
	w, err := Open(Config{Title: "noether-vk test", Width: width, Height: height, Device: gpu.OptionsFromEnv()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, m := range w.Device().Messages() {
			t.Errorf("validation: %v", m)
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	return w, x
}

// present composes nothing: it uploads frame as it is and presents it,
// retrying while the swapchain is stale.
func present(t *testing.T, w *Window, frame func(width, height int) []byte) (int, int, []byte) {
	t.Helper()
	for range 20 {
		w.Poll(0)
		width, height, err := w.Extent()
		if err != nil {
			t.Fatal(err)
		}
		if width == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		px := frame(width, height)
		buf, err := w.Device().Alloc(int64(len(px)))
		if err != nil {
			t.Fatal(err)
		}
		defer buf.Free()
		if err := buf.Write(0, px); err != nil {
			t.Fatal(err)
		}
		switch err := w.Present(buf); {
		case errors.Is(err, ErrStale):
			continue
		case err != nil:
			t.Fatal(err)
		}
		return width, height, px
	}
	t.Fatal("the swapchain stayed stale over 20 tries")
	return 0, 0, nil
}

// waitForScreen polls the X server's screen until the window's region
// shows frame, and fails with the first differing pixel otherwise.
func waitForScreen(t *testing.T, x *windowtest.Xvfb, w *Window, width, height int, frame []byte) {
	t.Helper()
	ox, oy := w.Position()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		w.Poll(0)
		img, err := x.Screen()
		if err != nil {
			t.Fatal(err)
		}
		if last = diff(img, ox, oy, width, height, frame); last == "" {
			return
		}
	}
	t.Fatalf("the window at (%d, %d) does not show the frame presented: %s", ox, oy, last)
}

// diff is "" when img shows frame (BGRA8, width x height) at (ox, oy),
// else the first pixel that differs.
func diff(img *image.NRGBA, ox, oy, width, height int, frame []byte) string {
	if ox+width > img.Bounds().Dx() || oy+height > img.Bounds().Dy() {
		return fmt.Sprintf("a %dx%d window at (%d, %d) is not inside the %v screen", width, height, ox, oy, img.Bounds())
	}
	for y := range height {
		for x := range width {
			p := frame[4*(y*width+x):]
			c := img.NRGBAAt(ox+x, oy+y)
			if c.B != p[0] || c.G != p[1] || c.R != p[2] {
				return fmt.Sprintf("pixel (%d, %d) is RGB %d,%d,%d; want %d,%d,%d", x, y, c.R, c.G, c.B, p[2], p[1], p[0])
			}
		}
	}
	return ""
}

func TestPresentShowsTheFrame(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w, x := openTestWindow(t, 160, 120)
	width, height, px := present(t, w, func(width, height int) []byte { return pattern(width, height, 0) })
	if width != 160 || height != 120 {
		t.Errorf("extent %dx%d, want the window's 160x120", width, height)
	}
	waitForScreen(t, x, w, width, height, px)

	// A second frame replaces the first: the screen is not stale.
	width, height, px = present(t, w, func(width, height int) []byte { return pattern(width, height, 100) })
	waitForScreen(t, x, w, width, height, px)
}

func TestResizeRecreatesTheSwapchain(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w, x := openTestWindow(t, 160, 120)
	present(t, w, func(width, height int) []byte { return pattern(width, height, 0) })
	if w.Swapchains() != 1 {
		t.Fatalf("%d swapchains after the first frame, want 1", w.Swapchains())
	}
	w.SetSize(240, 180)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.Poll(0)
		if fw, _ := w.win.GetFramebufferSize(); fw == 240 {
			break
		}
	}
	width, height, px := present(t, w, func(width, height int) []byte { return pattern(width, height, 50) })
	if width != 240 || height != 180 {
		t.Fatalf("extent %dx%d after resizing to 240x180", width, height)
	}
	if w.Swapchains() != 2 {
		t.Errorf("%d swapchains after one resize, want 2", w.Swapchains())
	}
	waitForScreen(t, x, w, width, height, px)
}

func TestPresentRefusesAFrameOfTheWrongSize(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w, _ := openTestWindow(t, 64, 48)
	if _, _, err := w.Extent(); err != nil {
		t.Fatal(err)
	}
	buf, err := w.Device().Alloc(16)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	if err := w.Present(buf); err == nil || errors.Is(err, ErrStale) {
		t.Errorf("Present of 16 bytes to a 64x48 swapchain: %v", err)
	}
}

func TestKeysArriveInOrder(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w, _ := openTestWindow(t, 64, 48)
	for _, k := range []glfw.Key{glfw.KeyQ, glfw.Key3, glfw.KeySpace, glfw.KeyLeft, glfw.KeyF1, glfw.KeyEscape} {
		w.key(k)
	}
	got := fmt.Sprint(w.Keys())
	if want := "[q 3 space left escape]"; got != want {
		t.Errorf("keys %s, want %s (F1 is not reported)", got, want)
	}
	if k := w.Keys(); len(k) != 0 {
		t.Errorf("keys %v after they were read", k)
	}
}

func TestOpenWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	_, err := Open(Config{Width: 64, Height: 48})
	if !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("Open without a display: %v, want ErrNoDisplay", err)
	}
	for _, want := range []string{"DISPLAY", "xvfb-run", "--frames"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not mention %s", err, want)
		}
	}
}
