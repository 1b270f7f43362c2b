package physics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// RealPendulumFile is the data set's file name in the project's shared
// data folder (Schmidt and Lipson 2009, via HNN).
const RealPendulumFile = "real_pend_h_1.txt"

// minRealRows is the fewest data rows LoadRealPendulum accepts: enough
// for a train and a test part of a few points each.
const minRealRows = 10

// realColumns names the file's columns and bounds the magnitude of each:
// far beyond any real pendulum's (the published file stays within 100 s,
// 1.5 rad and 1.5 rad/s), and far below where float32 training overflows,
// so a value beyond is a damaged or foreign file, not a measurement.
var realColumns = [4]struct {
	name, what string
	limit      float64
}{
	{"trial", "the trial number", 1e9},
	{"t", "the time in seconds", 1e7},
	{"o", "the angle in radians", 1e3},
	{"v", "the angular velocity in radians per second", 1e4},
}

// LoadRealPendulum reads the real-pendulum measurements (see
// ParseRealPendulum) from a file.
func LoadRealPendulum(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("physics: real pendulum data %s not found: the file is %s from the project's shared/data folder; pass its path", path, RealPendulumFile)
		}
		return nil, fmt.Errorf("physics: real pendulum data: %w", err)
	}
	defer f.Close()
	return ParseRealPendulum(f, path)
}

// ParseRealPendulum reads the published format: a header line `%o v`,
// then one row per sample of four whitespace-separated numbers (trial,
// time t in seconds, angle o, angular velocity v), lines ending in LF or
// CRLF; blank lines are skipped. name labels errors (file:line).
//
// The state is x = (q, p) = (o, v). The data are cut into segments: a new
// segment starts at a new trial and at every gap in time, a step longer
// than 1.25 dt, where dt is the median step within trials (1/6 s in the
// published file, which has ten gaps of 1/3 or 1/2 s). A step shorter than
// 0.75 dt (time standing still or going back) is an error.
//
// Split: the first 80% of the rows in file order (int(0.8 N)) are for
// training, the rest for testing, as HNN splits its arrays; a segment that
// straddles the split is cut in two. Each segment is one Trajectory, with
// True equal to X (the measurements are the truth rollouts are scored
// against). A segment of one point, which has no derivative and nothing to
// roll out, is dropped.
//
// Targets: dx/dt at a point is the forward difference to the next point
// of its segment, (x[i+1] - x[i]) / (t[i+1] - t[i]); a difference never
// spans a gap or a trial boundary. The last point of a segment has no next
// point and takes the backward difference instead (the same value as the
// point before it).
func ParseRealPendulum(r io.Reader, name string) (*Dataset, error) {
	type row struct {
		line     int
		trial, t float64
		x        [2]float64
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	header := false
	var rows []row
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if !header {
			if strings.Join(fields, " ") != "%o v" {
				return nil, fmt.Errorf("%s:%d: bad header %q: want `%%o v` (the real pendulum file real_pend_h_1.txt starts with it); is this the right file?", name, line, text)
			}
			header = true
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s:%d: %d columns, want 4 (trial, t, o, v) separated by whitespace", name, line, len(fields))
		}
		var v [4]float64
		for i, f := range fields {
			col := realColumns[i]
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %d (%s) is %q, not a number; fix or remove the row", name, line, i+1, col.name, f)
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s:%d: column %d (%s) is %v; every value must be finite: remove the row", name, line, i+1, col.name, x)
			}
			if math.Abs(x) > col.limit {
				return nil, fmt.Errorf("%s:%d: value %g in column %d (%s, %s) is outside any plausible range (magnitude up to %g): fix or remove the row",
					name, line, x, i+1, col.name, col.what, col.limit)
			}
			v[i] = x
		}
		rows = append(rows, row{line, v[0], v[1], [2]float64{v[2], v[3]}})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if !header {
		return nil, fmt.Errorf("%s: empty: want a header `%%o v` and at least %d rows", name, minRealRows)
	}
	if len(rows) < minRealRows {
		return nil, fmt.Errorf("%s: %d data rows, want at least %d", name, len(rows), minRealRows)
	}
	var steps []float64
	for i := 1; i < len(rows); i++ {
		if rows[i].trial == rows[i-1].trial {
			steps = append(steps, rows[i].t-rows[i-1].t)
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: every row is its own trial: no time step to learn from", name)
	}
	sort.Float64s(steps)
	dt := steps[len(steps)/2]
	if !(dt > 0) {
		return nil, fmt.Errorf("%s: median time step %g is not positive: are the columns trial, t, o, v?", name, dt)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].trial == rows[i-1].trial && rows[i].t-rows[i-1].t < 0.75*dt {
			return nil, fmt.Errorf("%s:%d: t = %g after %g: a step of %g, want about %g (time must increase within a trial)", name, rows[i].line, rows[i].t, rows[i-1].t, rows[i].t-rows[i-1].t, dt)
		}
	}
	split := int(0.8 * float64(len(rows)))
	d := &Dataset{Name: "real-pendulum", DT: dt}
	segment := func(part []row) []Trajectory {
		var out []Trajectory
		start := 0
		for i := 1; i <= len(part); i++ {
			if i < len(part) && part[i].trial == part[i-1].trial && part[i].t-part[i-1].t <= 1.25*dt {
				continue
			}
			seg := part[start:i]
			start = i
			if len(seg) < 2 {
				continue
			}
			tr := Trajectory{}
			for _, r := range seg {
				tr.T = append(tr.T, r.t)
				tr.X = append(tr.X, r.x)
			}
			tr.True = tr.X
			for k := range seg {
				a, b := k, k+1
				if k == len(seg)-1 {
					a, b = k-1, k
				}
				h := tr.T[b] - tr.T[a]
				tr.DXDT = append(tr.DXDT, [2]float64{(tr.X[b][0] - tr.X[a][0]) / h, (tr.X[b][1] - tr.X[a][1]) / h})
			}
			out = append(out, tr)
		}
		return out
	}
	d.Train = segment(rows[:split])
	d.Test = segment(rows[split:])
	if len(d.Train) == 0 || len(d.Test) == 0 {
		return nil, fmt.Errorf("%s: no segment of 2 or more regularly spaced points in the train or the test part", name)
	}
	return d, nil
}
