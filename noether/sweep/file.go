package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// File is a sweep file (see the package documentation).
type File struct {
	Description string   `json:"description"`
	Out         string   `json:"out"`
	Numbers     []string `json:"numbers"`
	Common      Grid     `json:"common"`
	Grids       []Grid   `json:"grids"`
}

// Grid is a product of axes, in the order the file writes them.
type Grid []Axis

// Axis is one setting and the values it takes.
type Axis struct {
	Name   string
	Values []string
}

// Setting is one train flag of a point: its name without dashes, and its
// value as the command line takes it.
type Setting struct{ Name, Value string }

// Point is one run of a sweep.
type Point struct {
	Index    int       // in the sweep's order of points
	Settings []Setting // common axes first, then the grid's, in file order
	Dir      string    // its run folder, relative to the sweep's out
}

// The settings every point names, and those the sweep owns.
var (
	required = []string{"task", "method", "seed"}
	owned    = []string{"out", "resume", "overwrite", "report", "change-rates"}
)

// plainValue is a value written into a run folder's name as it is.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9._+-]{1,32}$`)

// Read reads and checks the sweep file at path; a file without "out"
// gets runs/ and its name without .json.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", path, err)
	}
	if f.Out == "" {
		f.Out = filepath.Join("runs", strings.TrimSuffix(filepath.Base(path), ".json"))
	}
	return f, nil
}

// Decode parses a sweep file: a JSON object with no field but those of
// File, and points that Points accepts.
func Decode(b []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a sweep file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a sweep file: more than one JSON value")
	}
	if _, err := f.Points(); err != nil {
		return nil, err
	}
	return &f, nil
}

// UnmarshalJSON reads a grid: an object whose fields are axes, each a
// value or a list of values, kept in the order written.
func (g *Grid) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("a grid is an object of settings, not %s", b)
	}
	*g = nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name := t.(string) // an object's keys are strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("setting %q: %w", name, err)
		}
		values, err := axisValues(raw)
		if err != nil {
			return fmt.Errorf("setting %q: %w", name, err)
		}
		if slices.ContainsFunc(*g, func(a Axis) bool { return a.Name == name }) {
			return fmt.Errorf("setting %q is given twice in one grid", name)
		}
		*g = append(*g, Axis{Name: name, Values: values})
	}
	_, err := dec.Token()
	return err
}

// axisValues reads an axis: a string, number or boolean, or a non-empty
// list of them; numbers keep their written form.
func axisValues(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, errors.New("an empty list of values gives no points")
	}
	var out []string
	for _, x := range list {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, fmt.Sprint(x))
		default:
			return nil, fmt.Errorf("value %v: want a string, a number or a boolean", x)
		}
	}
	return out, nil
}

// Points expands the file into its points, in order, with their run
// folders, and checks them: each names one task, method and seed, sets
// none of the settings the sweep owns, and differs from every other.
func (f *File) Points() ([]Point, error) {
	if len(f.Grids) == 0 {
		return nil, errors.New("no grids: the file lists its points under \"grids\"")
	}
	for gi, g := range f.Grids {
		for _, a := range g {
			if slices.ContainsFunc(f.Common, func(c Axis) bool { return c.Name == a.Name }) {
				return nil, fmt.Errorf("grid %d sets %q, which \"common\" sets too", gi+1, a.Name)
			}
		}
	}
	var points []Point
	for _, common := range product(f.Common) {
		for gi, g := range f.Grids {
			for _, s := range product(g) {
				s = append(slices.Clone(common), s...)
				if err := checkPoint(s); err != nil {
					return nil, fmt.Errorf("grid %d: point %s: %w", gi+1, describe(s), err)
				}
				points = append(points, Point{Index: len(points), Settings: s})
			}
		}
	}
	varying := varyingNames(points)
	seen := map[string]int{}
	for i := range points {
		p := &points[i]
		p.Dir = runFolder(p, varying)
		if j, twice := seen[p.Dir]; twice {
			return nil, fmt.Errorf("points %d (%s) and %d (%s) share the run folder %s: is a point listed twice?", j+1, points[j], i+1, p, p.Dir)
		}
		seen[p.Dir] = i
	}
	return points, nil
}

// product lists every combination of the axes' values, the first axis
// varying slowest.
func product(axes []Axis) [][]Setting {
	out := [][]Setting{nil}
	for _, a := range axes {
		var next [][]Setting
		for _, prefix := range out {
			for _, v := range a.Values {
				next = append(next, append(slices.Clone(prefix), Setting{a.Name, v}))
			}
		}
		out = next
	}
	return out
}

// checkPoint checks one point's settings.
func checkPoint(s []Setting) error {
	p := Point{Settings: s}
	for _, name := range required {
		if _, ok := p.Value(name); !ok {
			return fmt.Errorf("no %s: every point names its task, method and seed", name)
		}
	}
	for _, name := range owned {
		if _, ok := p.Value(name); ok {
			return fmt.Errorf("sets %s, which the sweep sets itself", name)
		}
	}
	for _, st := range s {
		if st.Name == "" || strings.HasPrefix(st.Name, "-") {
			return fmt.Errorf("setting %q: name train's flags without their dashes", st.Name)
		}
	}
	if m, _ := p.Value("method"); strings.Contains(m, ",") {
		return fmt.Errorf("method %q: one method per point (list several as the values of \"method\")", m)
	}
	return nil
}

// varyingNames are the settings other than task, method and seed whose
// value (or absence) is not the same at every point, by name.
func varyingNames(points []Point) []string {
	var names []string
	for _, p := range points {
		for _, s := range p.Settings {
			if !slices.Contains(names, s.Name) && !slices.Contains(required, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	var out []string
	for _, name := range names {
		first, had := points[0].Value(name)
		for _, p := range points[1:] {
			if v, ok := p.Value(name); ok != had || v != first {
				out = append(out, name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// runFolder names a point's run folder: TASK/METHOD[/NAME=VALUE,...]/seedSEED.
func runFolder(p *Point, varying []string) string {
	task, _ := p.Value("task")
	method, _ := p.Value("method")
	seed, _ := p.Value("seed")
	parts := []string{word(task), word(method)}
	var pairs []string
	for _, name := range varying {
		if v, ok := p.Value(name); ok {
			pairs = append(pairs, word(name)+"="+word(v))
		}
	}
	if len(pairs) > 0 {
		parts = append(parts, strings.Join(pairs, ","))
	}
	return filepath.Join(append(parts, "seed"+word(seed))...)
}

// word is v where it is a plain word, else the first 8 hex digits of its
// SHA-256.
func word(v string) string {
	if plainValue.MatchString(v) && v != "." && v != ".." {
		return v
	}
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:4])
}

// Value is the point's value of a setting.
func (p Point) Value(name string) (string, bool) {
	for _, s := range p.Settings {
		if s.Name == name {
			return s.Value, true
		}
	}
	return "", false
}

// Args are the point's settings as train's command line takes them.
func (p Point) Args() []string {
	var out []string
	for _, s := range p.Settings {
		out = append(out, "--"+s.Name, s.Value)
	}
	return out
}

// String lists the point's settings, name=value, quoting values that are
// not plain words.
func (p Point) String() string { return describe(p.Settings) }

func describe(s []Setting) string {
	var parts []string
	for _, st := range s {
		v := st.Value
		if !plainValue.MatchString(v) {
			v = fmt.Sprintf("%q", v)
		}
		parts = append(parts, st.Name+"="+v)
	}
	return strings.Join(parts, " ")
}
