package rundir

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress reports the advance of a long piece of work (an epoch, an
// evaluation) as done/total, percent, rate, ETA and key=value fields:
//
//	epoch 3 [=========>          ] 480/1000  48.0%  95.3/s  ETA 5s  loss=0.0123
//
// On a terminal the line is redrawn in place (\r) at most ten times a
// second; elsewhere (CI logs, files) it prints plain lines, at most one
// every PlainEvery, plus the final one. Its methods are safe for
// concurrent use.
type Progress struct {
	mu        sync.Mutex
	w         io.Writer
	total     int
	label     string
	tty       bool
	every     time.Duration
	now       func() time.Time
	start     time.Time
	last      time.Time // last draw
	drawn     bool      // whether anything was drawn
	width     int       // length of the last terminal line, to blank it
	done      int
	drawnDone int // done at the last draw
	fields    []any
	shown     bool // whether the current state has been drawn
	finished  bool
}

// PlainEvery is the least time between two plain (non-terminal) progress
// lines; the final line is always printed.
const PlainEvery = 5 * time.Second

// ttyEvery is the least time between two redraws on a terminal.
const ttyEvery = 100 * time.Millisecond

// barWidth is the number of cells of the terminal bar.
const barWidth = 20

// NewProgress returns a Progress writing to w for total units of work
// (total <= 0 if unknown: no percent, bar or ETA). label starts each line.
// The clock starts now.
func NewProgress(w io.Writer, total int, label string) *Progress {
	p := &Progress{w: w, total: total, label: label, tty: isTerminal(w), now: time.Now}
	p.every = PlainEvery
	if p.tty {
		p.every = ttyEvery
	}
	p.start = p.now()
	return p
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update records that done units are finished and shows it, with fields
// given as alternating keys and values (Update(i, "loss", l, "lr", lr)),
// unless the last line was drawn too recently. Reaching total is always
// shown, once. Float values are printed with 4 significant digits.
func (p *Progress) Update(done int, fields ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done = done
	p.fields = append(p.fields[:0], fields...)
	p.shown = false
	now := p.now()
	complete := p.total > 0 && done >= p.total && p.drawnDone < p.total
	if !p.drawn || now.Sub(p.last) >= p.every || complete {
		p.draw(now, false)
	}
}

// Done shows the final state (with the elapsed time in place of the ETA)
// unless it is already shown, and ends the terminal line. Later calls of
// Update and Done do nothing.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.tty || !p.shown {
		p.draw(p.now(), true)
	}
	if p.tty {
		io.WriteString(p.w, "\n")
	}
}

// draw writes the current state: in place on a terminal, as a line
// otherwise. Write errors are ignored: progress is not worth failing for.
func (p *Progress) draw(now time.Time, final bool) {
	line := p.format(now.Sub(p.start), final)
	if p.tty {
		pad := max(p.width-len(line), 0)
		p.width = len(line)
		io.WriteString(p.w, "\r"+line+strings.Repeat(" ", pad))
	} else {
		io.WriteString(p.w, line+"\n")
	}
	p.last, p.drawn, p.shown, p.drawnDone = now, true, true, p.done
}

// format renders the state after elapsed time as one line.
func (p *Progress) format(elapsed time.Duration, final bool) string {
	var sb strings.Builder
	if p.label != "" {
		sb.WriteString(p.label)
		sb.WriteByte(' ')
	}
	if p.total > 0 {
		frac := min(max(float64(p.done)/float64(p.total), 0), 1)
		if p.tty {
			n := int(frac * barWidth)
			head := ""
			if n < barWidth {
				head = ">"
			}
			fmt.Fprintf(&sb, "[%s%s%s] ", strings.Repeat("=", n), head, strings.Repeat(" ", max(barWidth-n-1, 0)))
		}
		fmt.Fprintf(&sb, "%d/%d %5.1f%%", p.done, p.total, 100*frac)
	} else {
		fmt.Fprintf(&sb, "%d", p.done)
	}
	secs := elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.done) / secs
	}
	if rate > 0 {
		fmt.Fprintf(&sb, "  %.3g/s", rate)
	} else {
		sb.WriteString("  -/s")
	}
	switch {
	case final || (p.total > 0 && p.done >= p.total):
		fmt.Fprintf(&sb, "  in %v", roundDuration(elapsed))
	case p.total > 0 && rate > 0:
		eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		fmt.Fprintf(&sb, "  ETA %v", roundDuration(eta))
	case p.total > 0:
		sb.WriteString("  ETA -")
	}
	for i := 0; i < len(p.fields); i += 2 {
		key := fmt.Sprint(p.fields[i])
		if i+1 == len(p.fields) {
			fmt.Fprintf(&sb, "  %s=?", key)
			break
		}
		switch v := p.fields[i+1].(type) {
		case float64:
			fmt.Fprintf(&sb, "  %s=%.4g", key, v)
		case float32:
			fmt.Fprintf(&sb, "  %s=%.4g", key, v)
		default:
			fmt.Fprintf(&sb, "  %s=%v", key, v)
		}
	}
	return sb.String()
}

// roundDuration rounds d for display: to 0.1 s below a minute, to the
// second below an hour, to the minute above.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	case d < time.Hour:
		return d.Round(time.Second)
	default:
		return d.Round(time.Minute)
	}
}
