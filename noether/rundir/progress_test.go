package rundir

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for Progress tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newTestProgress returns a Progress on buf with a fake clock.
func newTestProgress(buf *bytes.Buffer, total int, label string, tty bool) (*Progress, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := NewProgress(buf, total, label)
	p.now, p.start, p.tty = clk.now, clk.t, tty
	if tty {
		p.every = ttyEvery
	}
	return p, clk
}

func TestProgressFormat(t *testing.T) {
	tests := []struct {
		name    string
		total   int
		label   string
		tty     bool
		done    int
		elapsed time.Duration
		final   bool
		fields  []any
		want    string
	}{
		{"start", 100, "epoch 1", false, 0, 0, false, nil, "epoch 1 0/100   0.0%  -/s  ETA -"},
		{"middle", 1000, "train", false, 250, 10 * time.Second, false, []any{"loss", 0.012345678, "lr", float32(1e-3), "phase", "warmup"},
			"train 250/1000  25.0%  25/s  ETA 30s  loss=0.01235  lr=0.001  phase=warmup"},
		{"long eta", 10000, "", false, 1, time.Second, false, nil, "1/10000   0.0%  1/s  ETA 2h47m0s"},
		{"complete", 50, "eval", false, 50, 90 * time.Second, false, nil, "eval 50/50 100.0%  0.556/s  in 1m30s"},
		{"final early", 50, "eval", false, 20, 2 * time.Second, true, nil, "eval 20/50  40.0%  10/s  in 2s"},
		{"unknown total", 0, "steps", false, 42, 4 * time.Second, false, nil, "steps 42  10.5/s"},
		{"odd fields", 10, "", false, 5, time.Second, false, []any{"loss", 1.0, "dangling"}, "5/10  50.0%  5/s  ETA 1s  loss=1  dangling=?"},
		{"over total", 10, "", false, 12, time.Second, false, nil, "12/10 100.0%  12/s  in 1s"},
		{"tty bar", 100, "e", true, 50, 5 * time.Second, false, nil, "e [==========>         ] 50/100  50.0%  10/s  ETA 5s"},
		{"tty full bar", 100, "e", true, 100, 5 * time.Second, false, nil, "e [====================] 100/100 100.0%  20/s  in 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p, _ := newTestProgress(&buf, tt.total, tt.label, tt.tty)
			p.done, p.fields = tt.done, tt.fields
			if got := p.format(tt.elapsed, tt.final); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestProgressPlainThrottle(t *testing.T) {
	var buf bytes.Buffer
	p, clk := newTestProgress(&buf, 100, "train", false)
	// 100 updates, one every 0.2 s: 20 s in all. Lines come at the first
	// update, then every 5 s, and at completion.
	for i := 1; i <= 100; i++ {
		clk.advance(200 * time.Millisecond)
		p.Update(i, "loss", 1/float64(i))
	}
	p.Update(100, "loss", 0.01) // complete already shown: throttled again
	p.Done()                    // shows the last state
	p.Update(5)
	p.Done()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{"train 1/100", "train 26/100", "train 51/100", "train 76/100", "train 100/100", "train 100/100"}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w+" ") {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[4], "in 20s") || !strings.Contains(lines[5], "loss=0.01") {
		t.Errorf("final lines %q, %q", lines[4], lines[5])
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("carriage return in plain output")
	}
}

func TestProgressPlainDoneShowsLastState(t *testing.T) {
	var buf bytes.Buffer
	p, clk := newTestProgress(&buf, 100, "", false)
	p.Update(1)
	clk.advance(time.Second)
	p.Update(40, "loss", 0.5) // throttled
	p.Done()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "40/100") || !strings.Contains(lines[1], "in 1s  loss=0.5") {
		t.Fatalf("output %q", buf.String())
	}
}

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p, clk := newTestProgress(&buf, 10, "x", true)
	p.Update(1, "note", "a long field value")
	clk.advance(50 * time.Millisecond)
	p.Update(2) // throttled
	clk.advance(100 * time.Millisecond)
	p.Update(3) // redrawn, shorter: padded to blank the old text
	p.Done()
	out := buf.String()
	draws := strings.Split(out, "\r")[1:]
	if len(draws) != 3 {
		t.Fatalf("got %d draws: %q", len(draws), out)
	}
	if len(draws[1]) != len(draws[0]) {
		t.Errorf("redraw %q does not blank the previous %q", draws[1], draws[0])
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("terminal output should end with one newline: %q", out)
	}
	if !strings.Contains(draws[2], "3/10") || !strings.Contains(draws[2], "in 200ms") {
		t.Errorf("final draw %q", draws[2])
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		w    interface{ Write([]byte) (int, error) }
	}{
		{"buffer", &bytes.Buffer{}},
		{"regular file", f},
	}
	for _, tt := range tests {
		if isTerminal(tt.w) {
			t.Errorf("%s detected as a terminal", tt.name)
		}
	}
	if p := NewProgress(f, 1, ""); p.tty || p.every != PlainEvery {
		t.Error("progress on a file is not in plain mode")
	}
}

func ExampleNewProgress() {
	var log bytes.Buffer // not a terminal: plain lines, throttled
	p := NewProgress(&log, 3, "epoch 1")
	for i := 1; i <= 3; i++ {
		p.Update(i, "loss", 1/float64(i))
	}
	p.Done()
	// The rate and times vary; show the rest.
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		f := strings.Fields(line)
		fmt.Println(f[:4], f[len(f)-1])
	}
	// Output:
	// [epoch 1 1/3 33.3%] loss=1
	// [epoch 1 3/3 100.0%] loss=0.3333
}
