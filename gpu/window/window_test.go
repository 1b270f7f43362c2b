package window

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

func init() { runtime.LockOSThread() }

func TestProbeWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	p := Probe()
	if p.Available || !strings.Contains(p.Reason, "DISPLAY") {
		t.Errorf("Probe without a display = %+v", p)
	}
}

// TestProbeWithDisplay runs where a display exists (CI runs the tests
// under xvfb-run): lavapipe presents to X11, so a window must be possible.
func TestProbeWithDisplay(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("DISPLAY not set; run under xvfb-run to check presentation")
	}
	p := Probe()
	if !p.Available {
		t.Fatalf("Probe = %+v", p)
	}
	if p.InstanceExtensions[0] != "VK_KHR_surface" {
		t.Errorf("extensions = %v, want VK_KHR_surface first", p.InstanceExtensions)
	}
}
