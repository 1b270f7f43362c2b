package search

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether/physics"
)

func TestCompare(t *testing.T) {
	d, err := physics.Pendulum().Generate(physics.GenOptions{Seed: 0})
	if err != nil {
		t.Fatal(err)
	}
	states := d.TrainX()
	for _, tc := range []struct {
		system, formula string
		params          map[string]float64
		c               float64 // NaN: not in the family
	}{
		{"pendulum", "p^2 - c*cos(q)", map[string]float64{"c": 3}, 3},
		{"pendulum", "c*cos(q) - p^2", map[string]float64{"c": 2.39}, 2.39},
		{"pendulum", "(p^2 + c*cos(q))/k + 1", map[string]float64{"c": -3, "k": 7}, 3},
		{"real-pendulum", "cos(q)/c - p^2", map[string]float64{"c": 0.5}, 2},
		{"pendulum", "p^2 + c*q^2", map[string]float64{"c": 1.5}, math.NaN()},
		{"spring", "q^2 + c*p^2", map[string]float64{"c": 1}, 1},
		{"spring", "p^2/c + q^2", map[string]float64{"c": 0.8}, 1 / 0.8},
		{"spring", "p*q", nil, math.NaN()},
	} {
		q, err := Compare(formulas.MustParse(tc.formula), tc.params, tc.system, states)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(tc.c) {
			if q.Equivalent() {
				t.Errorf("%s on %s: equivalent to %s with c=%g (residual %g), want not", tc.formula, tc.system, q.Family, q.C, q.Residual)
			}
			continue
		}
		if !q.Equivalent() || math.Abs(q.C-tc.c) > 1e-9*math.Abs(tc.c) {
			t.Errorf("%s on %s: c=%g residual %g, want c=%g residual 0", tc.formula, tc.system, q.C, q.Residual, tc.c)
		}
	}
	if _, err := Compare(formulas.MustParse("p"), nil, "cart-pole", states); err == nil {
		t.Error("unknown system: no error")
	}
}

func TestMergeFits(t *testing.T) {
	part := func(shard string, settings string, recs ...FitRecord) *FitReport {
		n := 0
		for _, r := range recs {
			if r.Accepted {
				n++
			}
		}
		return &FitReport{Kind: "fit", System: "pendulum", Depth: 3, Shard: shard, Settings: settings, Enumerated: 3,
			Fitted: len(recs), Accepted: n, Records: recs, Stages: []Stage{{"enumerate", 1}, {"fit", 2}}}
	}
	a := FitRecord{Index: 0, Formula: "p", Score: 0.5}
	b := FitRecord{Index: 1, Formula: "q", Score: 0.001, Accepted: true}
	c := FitRecord{Index: 2, Formula: "p^2", Score: 0.2}
	got, err := MergeFits([]*FitReport{part("1/2", "s", b), part("0/2", "s", a, c)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Shard != "all" || got.Fitted != 3 || got.Accepted != 1 || got.Records[0].Formula != "q" || got.Records[2].Formula != "p" {
		t.Errorf("merged: %+v", got)
	}
	if got.Stages[1].Seconds != 4 {
		t.Errorf("fit seconds %g, want the sum 4", got.Stages[1].Seconds)
	}
	for _, tc := range []struct {
		parts []*FitReport
		want  string
	}{
		{[]*FitReport{part("0/2", "s", a, c)}, "missing"},
		{[]*FitReport{part("0/2", "s", a, c), part("0/2", "s", b)}, "twice"},
		{[]*FitReport{part("0/2", "s", a, c), part("1/2", "t", b)}, "fitted with"},
		{[]*FitReport{part("0/2", "s", a, c), part("1/3", "s", b)}, "split"},
		{[]*FitReport{part("all", "s", a, b, c)}, "only sharded"},
		{[]*FitReport{part("0/2", "s", a), part("1/2", "s", b)}, "fitted 2 of 3"},
	} {
		if _, err := MergeFits(tc.parts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("merge: error %v, want one saying %q", err, tc.want)
		}
	}
}

func TestMergeSearches(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	top := func(done ...int) []CandidateResult {
		cs := []CandidateResult{{Rank: 0, Formula: "p^2 - c0*cos(q)"}, {Rank: 1, Formula: "c0*p^2 - cos(q)"}, {Rank: 2, Formula: "p*q"}}
		for _, i := range done {
			cs[i].TrainRMSE, cs[i].TestRMSE = f(0.1/float64(i+1)), f(0.2)
		}
		return cs
	}
	oracle := &CandidateResult{Rank: -1, Formula: "p^2 - c*cos(q)", TestRMSE: f(0.19)}
	p0 := &Report{Kind: "search", System: "pendulum", Shard: "0/2", Top: top(0, 2), Oracle: oracle, OracleTestRMSE: 0.19}
	p1 := &Report{Kind: "search", System: "pendulum", Shard: "1/2", Top: top(1)}
	got, err := MergeSearches([]*Report{p1, p0})
	if err != nil {
		t.Fatal(err)
	}
	if got.Formula != "p*q" || got.Oracle == nil || got.Shard != "all" {
		t.Errorf("merged: selected %q (want the lowest train RMSE, p*q), oracle %v", got.Formula, got.Oracle)
	}
	p1.Top = top()
	if _, err := MergeSearches([]*Report{p0, p1}); err == nil || !strings.Contains(err.Error(), "no shard") {
		t.Errorf("candidate 1 meta-tailored by no shard: error %v", err)
	}
}

// TestSearchPipeline runs the whole search on the pendulum at CI size
// (every depth-7 formula fitted; a short baseline and meta-training): the
// fit keeps the energy and finds c = 3, the sharded fit merges into the
// same records, and the selected formula is the energy's family.
func TestSearchPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 6,253 formulas")
	}
	d, err := physics.Pendulum().Generate(physics.GenOptions{Seed: 0})
	if err != nil {
		t.Fatal(err)
	}
	v := kernels.NewVulkan(gputest.Open(t))
	cfg := Config{System: "pendulum", Depth: 7, Fit: formulas.DefaultFitOptions(), Top: 2, InnerLRs: []float64{0.01, 0.1},
		Experiment: physics.Config{Backend: graph.VulkanBackend{Kernels: v}, BaselineSteps: 100, BaselineLR: 1e-3, WeightDecay: 1e-4, MetaEpochs: 2, MetaLR: 1e-4,
			Dir: t.TempDir()}}
	fits, err := cfg.FitStage(v, d)
	if err != nil {
		t.Fatal(err)
	}
	if fits.Enumerated != 6253 || fits.Fitted != fits.Enumerated || fits.Accepted < 1 {
		t.Fatalf("fit: %d enumerated, %d fitted, %d accepted", fits.Enumerated, fits.Fitted, fits.Accepted)
	}
	best := fits.Records[0]
	q, err := Compare(formulas.MustParse(best.Formula), best.Params, "pendulum", d.TrainX())
	if err != nil {
		t.Fatal(err)
	}
	if !q.Equivalent() || math.Abs(q.C-3) > 0.01*3 {
		t.Errorf("most conserved: %s %v: c=%g residual %g, want the energy with c within 1%% of 3", best.Formula, best.Params, q.C, q.Residual)
	}
	for _, r := range fits.Records {
		if r.Formula == "c0*q^2 + p^2" && r.Accepted {
			t.Errorf("the spring's energy passed the pendulum's filter (score %g)", r.Score)
		}
	}

	var parts []*FitReport
	for i := range 2 {
		c := cfg
		c.Shard, c.Shards = i, 2
		p, err := c.FitStage(v, d)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	merged, err := MergeFits(parts)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Accepted != fits.Accepted || merged.Records[0].Formula != best.Formula {
		t.Errorf("sharded fit: %d accepted, best %s; whole: %d, %s", merged.Accepted, merged.Records[0].Formula, fits.Accepted, best.Formula)
	}

	rep, err := cfg.Search(d, fits)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Equivalence == nil || !rep.Equivalence.Equivalent() || math.Abs(rep.Equivalence.C-3) > 0.03 {
		t.Errorf("selected %s %v: %+v", rep.Formula, rep.Params, rep.Equivalence)
	}
	if rep.Oracle == nil || !(rep.OracleTestRMSE > 0) || !(rep.TestRMSE > 0) || rep.CandidatesEnumerated != 6253 {
		t.Errorf("report: %+v", rep)
	}
	// Each candidate is meta-tailored at its tailoring rate and the two
	// grid rates beside it, and keeps the one with the lowest training RMSE.
	for _, c := range append(rep.Top, *rep.Oracle) {
		if len(c.Rates) != 3 || c.TrainRMSE == nil {
			t.Errorf("%s: meta-tailored at %d rates (train RMSE %v), want 3", c.Formula, len(c.Rates), c.TrainRMSE)
			continue
		}
		kept := false
		for _, r := range c.Rates {
			if !r.Diverged && r.TrainRMSE < *c.TrainRMSE {
				t.Errorf("%s: kept rate %g (train %g), but rate %g trains to %g", c.Formula, c.InnerLR, *c.TrainRMSE, r.LR, r.TrainRMSE)
			}
			kept = kept || r.LR == c.InnerLR && r.TrainRMSE == *c.TrainRMSE
		}
		if !kept || math.Abs(c.Rates[1].LR-c.TailorLR) > 1e-12 {
			t.Errorf("%s: rates %+v, kept %g, tailoring rate %g", c.Formula, c.Rates, c.InnerLR, c.TailorLR)
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report does not encode: %v", err)
	}
}
