package windowtest

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Xvfb is a private X server started for one test.
type Xvfb struct {
	// Display is its DISPLAY value (":N").
	Display string
	// Screen0 is the XWD file that holds screen 0's pixels.
	Screen0 string
}

// StartXvfb starts Xvfb on a free display with one screen of width x
// height at depth 24, sets DISPLAY for the test, and stops the server
// when the test ends. The test is skipped when Xvfb is not installed.
func StartXvfb(t testing.TB, width, height int) *Xvfb {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb not installed (make deps installs xvfb)")
	}
	dir := t.TempDir()
	for n := 90 + os.Getpid()%400; n < 1000; n++ {
		_, errSocket := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n))
		_, errLock := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n))
		if errSocket == nil || errLock == nil {
			continue
		}
		if x := tryDisplay(t, bin, n, dir, width, height); x != nil {
			t.Setenv("DISPLAY", x.Display)
			return x
		}
	}
	t.Fatal("no free X display between :90 and :999")
	return nil
}

// tryDisplay starts Xvfb on display n; nil when the server exits at once
// (another one took the display meanwhile).
func tryDisplay(t testing.TB, bin string, n int, dir string, width, height int) *Xvfb {
	t.Helper()
	display := fmt.Sprintf(":%d", n)
	cmd := exec.Command(bin, display, "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-fbdir", dir, "-nolisten", "tcp")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	socket := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return nil
		default:
		}
		if _, err := os.Stat(socket); err == nil {
			t.Cleanup(func() {
				cmd.Process.Signal(os.Interrupt)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
			return &Xvfb{Display: display, Screen0: filepath.Join(dir, "Xvfb_screen0")}
		}
	}
	cmd.Process.Kill()
	<-exited
	t.Fatalf("Xvfb %s did not create its socket within 10 s", display)
	return nil
}

// Screen reads the server's screen 0 as it is now.
func (x *Xvfb) Screen() (*image.NRGBA, error) { return ReadXWD(x.Screen0) }

// ReadXWD reads an XWD file of depth 24 and 32 bits per pixel (what Xvfb
// keeps with -fbdir): a header of 25 big-endian 32-bit fields, the window
// name up to header_size, ncolors colormap entries of 12 bytes, then the
// pixel rows, bytes_per_line each.
func ReadXWD(path string) (*image.NRGBA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading XWD: %w", err)
	}
	if len(b) < 100 {
		return nil, fmt.Errorf("XWD %s: %d bytes, shorter than its header", path, len(b))
	}
	field := func(i int) int { return int(binary.BigEndian.Uint32(b[4*i:])) }
	headerSize, width, height := field(0), field(4), field(5)
	byteOrder, bpp, bytesPerLine, ncolors := field(7), field(11), field(12), field(19)
	if field(3) != 24 || bpp != 32 {
		return nil, fmt.Errorf("XWD %s: depth %d at %d bits per pixel; want depth 24 at 32", path, field(3), bpp)
	}
	start := headerSize + 12*ncolors
	if start+bytesPerLine*height > len(b) || bytesPerLine < 4*width {
		return nil, fmt.Errorf("XWD %s: %dx%d pixels at %d bytes a row do not fit its %d bytes", path, width, height, bytesPerLine, len(b))
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		row := b[start+y*bytesPerLine:]
		for x := range width {
			p := row[4*x : 4*x+4]
			c := color.NRGBA{R: p[2], G: p[1], B: p[0], A: 255} // LSBFirst: B, G, R, X
			if byteOrder == 1 {
				c = color.NRGBA{R: p[1], G: p[2], B: p[3], A: 255} // MSBFirst: X, R, G, B
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img, nil
}
