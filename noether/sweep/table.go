package sweep

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Table is a merged sweep: one row per point with the seed left out.
type Table struct {
	Description string   `json:"description"`
	Columns     []string `json:"columns"` // the settings shown: task, method, then those that vary
	Numbers     []string `json:"numbers"` // the results tabulated, in order
	Rows        []Row    `json:"rows"`
}

// Row is the points that differ only in their seed.
type Row struct {
	Settings   map[string]string `json:"settings"` // every setting but the seed
	Seeds      []string          `json:"seeds"`
	RunFolders []string          `json:"run_folders"` // by seed
	Stats      map[string]Stats  `json:"stats"`       // by number
}

// Stats are one number's values over a row's seeds.
type Stats struct {
	Values []float64 `json:"values"` // by seed
	Mean   float64   `json:"mean"`
	// SD is the sample standard deviation (n - 1 in the denominator);
	// null for a single seed.
	SD  *float64 `json:"sd"`
	Min float64  `json:"min"`
	Max float64  `json:"max"`
}

// maxListed bounds the incomplete points an error names one by one.
const maxListed = 20

// Merge tabulates every point's results; it refuses a sweep with any
// point incomplete, naming them (the first maxListed) and why.
func (s *Sweep) Merge() (*Table, error) {
	var missing []string
	statuses := make([]Status, len(s.Points))
	for i := range s.Points {
		statuses[i] = s.Status(i)
		if !statuses[i].Complete {
			if len(missing) < maxListed {
				missing = append(missing, fmt.Sprintf("#%d %s (%s): %s", i+1, s.Points[i], s.Dir(i), statuses[i].Why))
			} else if len(missing) == maxListed {
				missing = append(missing, "...")
			}
		}
	}
	if len(missing) > 0 {
		n := 0
		for _, st := range statuses {
			if !st.Complete {
				n++
			}
		}
		return nil, fmt.Errorf("sweep: merge: %d of %d points are not complete; run them (sweep run) first:\n  %s", n, len(s.Points), strings.Join(missing, "\n  "))
	}
	numbers := s.Numbers
	if len(numbers) == 0 {
		set := map[string]bool{}
		for _, st := range statuses {
			for k := range st.Numbers {
				set[k] = true
			}
		}
		numbers = slices.Sorted(maps.Keys(set))
	}
	t := &Table{Description: s.Description, Columns: append(slices.Clone(required[:2]), varyingNames(s.Points)...), Numbers: numbers}
	rows := map[string]int{}
	values := map[int]map[string][]float64{}
	for i, p := range s.Points {
		settings := map[string]string{}
		var seed string
		for _, st := range p.Settings {
			if st.Name == "seed" {
				seed = st.Value
			} else {
				settings[st.Name] = st.Value
			}
		}
		key := describe(sortedSettings(settings))
		r, ok := rows[key]
		if !ok {
			r = len(t.Rows)
			rows[key] = r
			t.Rows = append(t.Rows, Row{Settings: settings})
			values[r] = map[string][]float64{}
		}
		row := &t.Rows[r]
		row.Seeds = append(row.Seeds, seed)
		row.RunFolders = append(row.RunFolders, s.Dir(i))
		for _, name := range numbers {
			v, ok := statuses[i].Numbers[name]
			if !ok {
				return nil, fmt.Errorf("sweep: merge: point #%d (%s) records no %s: its numbers are %s", i+1, p, name,
					strings.Join(slices.Sorted(maps.Keys(statuses[i].Numbers)), ", "))
			}
			values[r][name] = append(values[r][name], v)
		}
	}
	for r := range t.Rows {
		t.Rows[r].Stats = map[string]Stats{}
		for _, name := range numbers {
			t.Rows[r].Stats[name] = summarize(values[r][name])
		}
	}
	return t, nil
}

// sortedSettings are settings in name order.
func sortedSettings(m map[string]string) []Setting {
	var out []Setting
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Setting{k, m[k]})
	}
	return out
}

// summarize computes a number's statistics over seeds.
func summarize(v []float64) Stats {
	st := Stats{Values: v, Min: slices.Min(v), Max: slices.Max(v)}
	for _, x := range v {
		st.Mean += x
	}
	st.Mean /= float64(len(v))
	if len(v) > 1 {
		ss := 0.0
		for _, x := range v {
			ss += (x - st.Mean) * (x - st.Mean)
		}
		sd := math.Sqrt(ss / float64(len(v)-1))
		st.SD = &sd
	}
	return st
}

// Markdown writes the table: the settings columns, the seeds, and per
// number its mean, standard deviation and every seed's value.
func (t *Table) Markdown(w io.Writer) error {
	var b strings.Builder
	if t.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", t.Description)
	}
	head := append(slices.Clone(t.Columns), "seeds")
	for _, n := range t.Numbers {
		head = append(head, n+" mean", "sd", "per seed")
	}
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	for _, r := range t.Rows {
		var cells []string
		for _, c := range t.Columns {
			v, ok := r.Settings[c]
			if !ok {
				v = "-"
			}
			cells = append(cells, strings.ReplaceAll(v, "|", `\|`))
		}
		cells = append(cells, strings.Join(r.Seeds, ", "))
		for _, n := range t.Numbers {
			st := r.Stats[n]
			sd := "-"
			if st.SD != nil {
				sd = Format(*st.SD)
			}
			var per []string
			for _, v := range st.Values {
				per = append(per, Format(v))
			}
			cells = append(cells, Format(st.Mean), sd, strings.Join(per, " / "))
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Format writes a result as the README's tables do: 4 decimals below 1
// (0.0551), 4 significant digits from 1 on (54.31) and below 0.001.
func Format(v float64) string {
	if a := math.Abs(v); a >= 1 || (a < 1e-3 && a != 0) || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprintf("%.4f", v)
}
