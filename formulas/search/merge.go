package search

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/noether-vk/noether-vk/noether/shard"
)

// Part is one shard's --json output: a fit or a search report.
type Part struct {
	Name   string // where it was read, for messages
	Fit    *FitReport
	Search *Report
}

// DecodePart reads one shard's --json output, named name in errors: a
// JSON object of the kind "fit" or "search" with no field a report does
// not have.
func DecodePart(name string, b []byte) (Part, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	// Unmarshal refuses anything after the object too.
	if err := json.Unmarshal(b, &head); err != nil {
		return Part{}, fmt.Errorf("search: %s: not valid JSON: %w", name, err)
	}
	p := Part{Name: name}
	var into any
	switch head.Kind {
	case "fit":
		p.Fit = &FitReport{}
		into = p.Fit
	case "search":
		p.Search = &Report{}
		into = p.Search
	default:
		return Part{}, fmt.Errorf("search: %s is not the --json of formulas fit or search (kind %q)", name, head.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return Part{}, fmt.Errorf("search: %s: not a %s report: %w", name, head.Kind, err)
	}
	return p, nil
}

// Merge joins the parts of one stage, all fits (MergeFits) or all
// searches (MergeSearches); the other result is nil.
func Merge(parts []Part) (*FitReport, *Report, error) {
	var fits []*FitReport
	var searches []*Report
	for _, p := range parts {
		if p.Fit != nil {
			fits = append(fits, p.Fit)
		}
		if p.Search != nil {
			searches = append(searches, p.Search)
		}
	}
	switch {
	case len(fits) > 0 && len(searches) > 0:
		return nil, nil, fmt.Errorf("search: merge: give the outputs of one stage: %d fits and %d searches given", len(fits), len(searches))
	case len(fits) > 0:
		rep, err := MergeFits(fits)
		return rep, nil, err
	}
	rep, err := MergeSearches(searches)
	return nil, rep, err
}

// shards checks that parts named by shard strings are exactly 0/N ... N-1/N.
func shards(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("search: merge: no parts")
	}
	seen := map[int]bool{}
	n := -1
	for _, s := range names {
		sh, err := shard.Parse(s)
		if err != nil {
			return fmt.Errorf("search: merge: %w (only sharded outputs merge)", err)
		}
		if n >= 0 && sh.Count != n {
			return fmt.Errorf("search: merge: shard %s is of a %d-way split, others of %d", s, sh.Count, n)
		}
		if seen[sh.Index] {
			return fmt.Errorf("search: merge: shard %s given twice", s)
		}
		n, seen[sh.Index] = sh.Count, true
	}
	for i := range n {
		if !seen[i] {
			return fmt.Errorf("search: merge: shard %d/%d is missing", i, n)
		}
	}
	return nil
}

// MergeFits joins the fit outputs of every shard of one split into the
// report of the whole enumeration.
//
// Each part must hold what it claims: as many records as formulas fitted
// (a record list cut short is refused, not merged into a report that
// claims more fits than it holds), each of a formula of its shard, once,
// and as many accepted as it says.
func MergeFits(parts []*FitReport) (*FitReport, error) {
	var names []string
	for _, p := range parts {
		names = append(names, p.Shard)
		if p.Settings != parts[0].Settings {
			return nil, fmt.Errorf("search: merge: shard %s was fitted with %q, shard %s with %q", p.Shard, p.Settings, parts[0].Shard, parts[0].Settings)
		}
		if p.System != parts[0].System || p.Depth != parts[0].Depth || p.Enumerated != parts[0].Enumerated {
			return nil, fmt.Errorf("search: merge: shard %s fitted %s at depth %d (%d formulas), shard %s %s at depth %d (%d)",
				p.Shard, p.System, p.Depth, p.Enumerated, parts[0].Shard, parts[0].System, parts[0].Depth, parts[0].Enumerated)
		}
	}
	if err := shards(names); err != nil {
		return nil, err
	}
	for _, p := range parts {
		if err := p.checkRecords(); err != nil {
			return nil, err
		}
	}
	out := &FitReport{Kind: "fit", System: parts[0].System, Depth: parts[0].Depth, Shard: "all", Settings: parts[0].Settings,
		Enumerated: parts[0].Enumerated}
	stages := map[string]float64{}
	for _, p := range parts {
		out.Fitted += p.Fitted
		out.Accepted += p.Accepted
		out.Records = append(out.Records, p.Records...)
		for _, s := range p.Stages {
			stages[s.Name] += s.Seconds // machine-seconds over the shards
		}
	}
	if out.Fitted != out.Enumerated {
		return nil, fmt.Errorf("search: merge: the shards fitted %d of %d formulas", out.Fitted, out.Enumerated)
	}
	for _, name := range []string{"enumerate", "fit"} {
		out.Stages = append(out.Stages, Stage{name, stages[name]})
	}
	sortRecords(out.Records)
	return out, nil
}

// checkRecords tells whether a shard's fit report holds the records it
// claims (see MergeFits); the shard is known to parse.
func (p *FitReport) checkRecords() error {
	sh, _ := shard.Parse(p.Shard)
	if len(p.Records) != p.Fitted {
		return fmt.Errorf("search: merge: shard %s claims %d fitted formulas but holds %d records: is the file cut short?", p.Shard, p.Fitted, len(p.Records))
	}
	seen := map[int]bool{}
	accepted := 0
	for _, r := range p.Records {
		if r.Index < 0 || r.Index >= p.Enumerated || r.Index%sh.Count != sh.Index || seen[r.Index] {
			return fmt.Errorf("search: merge: shard %s holds a record of formula %d, which is not one of its share of the %d, or is there twice", p.Shard, r.Index, p.Enumerated)
		}
		seen[r.Index] = true
		if r.Accepted {
			accepted++
		}
	}
	if accepted != p.Accepted {
		return fmt.Errorf("search: merge: shard %s claims %d accepted formulas but holds %d", p.Shard, p.Accepted, accepted)
	}
	return nil
}

// MergeSearches joins the search outputs of every shard of one split: each
// meta-tailored its share of the same top candidates, shard 0 the oracle;
// the merged report chooses among all of them.
func MergeSearches(parts []*Report) (*Report, error) {
	var names []string
	for _, p := range parts {
		names = append(names, p.Shard)
	}
	if err := shards(names); err != nil {
		return nil, err
	}
	slices.SortFunc(parts, func(a, b *Report) int { return cmp.Compare(a.Shard, b.Shard) })
	out := *parts[0]
	out.Shard, out.Top = "all", slices.Clone(parts[0].Top)
	for _, p := range parts {
		if p.System != out.System || len(p.Top) != len(out.Top) {
			return nil, fmt.Errorf("search: merge: shard %s searched %s with %d candidates, shard %s %s with %d", p.Shard, p.System, len(p.Top), out.Shard, out.System, len(out.Top))
		}
		for i, c := range p.Top {
			if c.Formula != out.Top[i].Formula {
				return nil, fmt.Errorf("search: merge: shards disagree on candidate %d (%s vs %s): were they run with the same settings?", i, c.Formula, out.Top[i].Formula)
			}
			if (c.TrainRMSE == nil) != (c.TestRMSE == nil) {
				return nil, fmt.Errorf("search: merge: shard %s has candidate %d (%s) with only one of its train and test RMSEs", p.Shard, i, c.Formula)
			}
			if c.TrainRMSE != nil || c.Diverged {
				out.Top[i] = c
			}
		}
		if p.Oracle != nil {
			out.Oracle, out.OracleTestRMSE = p.Oracle, p.OracleTestRMSE
		}
	}
	if out.Oracle == nil {
		return nil, fmt.Errorf("search: merge: no shard has the oracle row (shard 0 computes it)")
	}
	for i, c := range out.Top {
		if c.TrainRMSE == nil && !c.Diverged {
			return nil, fmt.Errorf("search: merge: candidate %d (%s) was meta-tailored by no shard", i, c.Formula)
		}
	}
	return &out, out.choose()
}
