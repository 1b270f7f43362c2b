package search

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether/physics"
)

// Config sets up the formula search of the paper's section 5.1:
// enumerate, fit, filter, tailor, meta-tailor, select.
type Config struct {
	System string // pendulum, spring or real-pendulum
	Depth  int    // the largest formula size, in nodes (7)
	// AcceptRatio is the conservation filter: a formula is a candidate when
	// its fitted score (within-sequence variance on true sequences over that
	// on random ones) is at most 1/AcceptRatio (100).
	AcceptRatio float64
	Fit         formulas.FitOptions // zero: formulas.DefaultFitOptions
	// Noisy fits on the states the models see; by default the ideal
	// systems' formulas are fitted on their noise-free states, because the
	// data's noise (std 0.1) alone keeps the true energy's score near 0.1,
	// far above the 1/100 filter (the real pendulum has only its measurements).
	Noisy bool
	// InnerLRs are the inner learning rates of the tailoring stage
	// (10^k, k = -3, -2.5, ..., 1).
	InnerLRs []float64
	// MetaRates are the factors of a candidate's tailoring rate at which
	// it is meta-tailored, the best by training RMSE kept (10^-0.5, 1,
	// 10^0.5): the best rate for meta-tailoring is often one grid step from
	// the best for tailoring alone (on the real pendulum, tailoring alone
	// diverges at the rate that meta-tailors best; see the README).
	MetaRates []float64
	Top       int // candidates meta-tailored (20)
	// Experiment holds the baseline and meta-training settings; its
	// MetaEpochs (100), Dir and Resume apply to every candidate.
	Experiment physics.Config
	// Shard and Shards split the work: the fitting stage fits the formulas
	// whose index is Shard mod Shards; the search stage meta-tailors the
	// top candidates whose rank is Shard mod Shards. Merge joins the parts.
	Shard, Shards int
	Progress      io.Writer
}

// DefaultInnerLRs are the paper's tailoring rates, 10^k for k in {-3,
// -2.5, ..., 1}.
func DefaultInnerLRs() []float64 {
	var lrs []float64
	for k := -6; k <= 2; k++ {
		lrs = append(lrs, math.Pow(10, float64(k)/2))
	}
	return lrs
}

// FitRecord is one enumerated formula after fitting.
type FitRecord struct {
	Index   int                `json:"index"` // position in the enumeration
	Formula string             `json:"formula"`
	Params  map[string]float64 `json:"params,omitempty"`
	// Score is W_true/W_rand at the fitted parameters; a score that is not
	// finite (the formula divides by zero on the data) is stored as the
	// largest float64.
	Score    float64 `json:"score"`
	Accepted bool    `json:"accepted"`
}

// FitReport is the output of the enumeration and fitting stages, of one
// shard or (after Merge) of all.
type FitReport struct {
	Kind       string      `json:"kind"` // "fit"
	System     string      `json:"system"`
	Depth      int         `json:"depth"`
	Shard      string      `json:"shard"`    // "i/N", or "all"
	Settings   string      `json:"settings"` // what must agree for shards to merge
	Enumerated int         `json:"candidates_enumerated"`
	Fitted     int         `json:"candidates_fitted"`
	Accepted   int         `json:"candidates_accepted"`
	Stages     []Stage     `json:"stages"`
	Records    []FitRecord `json:"records"` // sorted by score
}

// Stage is the wall time of one stage of a search.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// CandidateResult is one top candidate after tailoring and meta-tailoring.
type CandidateResult struct {
	Rank    int                `json:"rank"` // by tailoring loss, from 0
	Formula string             `json:"formula"`
	Params  map[string]float64 `json:"params,omitempty"`
	Score   float64            `json:"score,omitempty"` // absent for the oracle, which is not fitted
	// TailorLR is the tailoring rate with the lowest TailorRMSE, the
	// long-term prediction RMSE on the training trajectories of the
	// baseline tailored by one inner step (no meta-training).
	TailorLR   float64 `json:"tailor_lr"`
	TailorRMSE float64 `json:"tailor_train_rmse"`
	// Rates holds meta-tailoring at each of Config.MetaRates times
	// TailorLR; InnerLR is the one kept, with the lowest training RMSE.
	Rates   []RateResult `json:"rates,omitempty"`
	InnerLR float64      `json:"inner_lr,omitempty"`
	// TrainRMSE (long-term prediction on the training trajectories, the
	// selection criterion) and TestRMSE after meta-tailoring at InnerLR;
	// absent for a shard's candidates that other shards meta-tailor.
	TrainRMSE   *float64     `json:"train_rmse,omitempty"`
	TestRMSE    *float64     `json:"test_rmse,omitempty"`
	Equivalence *Equivalence `json:"equivalence,omitempty"`
	Diverged    bool         `json:"diverged,omitempty"` // meta-tailoring gave NaN
}

// RateResult is a candidate meta-tailored at one inner rate.
type RateResult struct {
	LR        float64 `json:"lr"`
	TrainRMSE float64 `json:"train_rmse,omitempty"`
	TestRMSE  float64 `json:"test_rmse,omitempty"`
	Diverged  bool    `json:"diverged,omitempty"` // NaN
}

// Report is the outcome of a search.
type Report struct {
	Kind                 string             `json:"kind"` // "search"
	System               string             `json:"system"`
	Shard                string             `json:"shard"`
	Formula              string             `json:"formula"`
	Params               map[string]float64 `json:"params"`
	TestRMSE             float64            `json:"test_rmse"`
	TrainRMSE            float64            `json:"train_rmse"`
	Equivalence          *Equivalence       `json:"equivalence,omitempty"`
	Oracle               *CandidateResult   `json:"oracle"`
	OracleTestRMSE       float64            `json:"oracle_test_rmse"`
	BaselineTestRMSE     float64            `json:"baseline_test_rmse"`
	CandidatesEnumerated int                `json:"candidates_enumerated"`
	CandidatesAccepted   int                `json:"candidates_accepted"`
	Top                  []CandidateResult  `json:"top"`
	Stages               []Stage            `json:"stages"`
	Seconds              float64            `json:"seconds"`
}

// Oracle is the true conserved quantity of a system with its parameter: the
// oracle row's formula.
func Oracle(system string) (*formulas.Expr, map[string]float64, error) {
	switch system {
	case "pendulum":
		return formulas.MustParse("p^2 - c*cos(q)"), map[string]float64{"c": 3}, nil
	case "real-pendulum":
		return formulas.MustParse("p^2 - c*cos(q)"), map[string]float64{"c": 2.4}, nil
	case "spring":
		return formulas.MustParse("q^2 + c*p^2"), map[string]float64{"c": 1}, nil
	}
	return nil, nil, fmt.Errorf("search: system %q: want spring, pendulum or real-pendulum", system)
}

func (c *Config) defaults() error {
	if c.Depth == 0 {
		c.Depth = 7
	}
	if c.Fit.Steps == 0 && c.Fit.Polish == 0 {
		c.Fit = formulas.DefaultFitOptions()
	}
	if c.AcceptRatio == 0 {
		c.AcceptRatio = 100
	}
	if len(c.InnerLRs) == 0 {
		c.InnerLRs = DefaultInnerLRs()
	}
	if len(c.MetaRates) == 0 {
		c.MetaRates = []float64{1 / math.Sqrt(10), 1, math.Sqrt(10)}
	}
	if c.Top == 0 {
		c.Top = 20
	}
	if c.Shards == 0 {
		c.Shards = 1
	}
	if c.Shards < 1 || c.Shard < 0 || c.Shard >= c.Shards {
		return fmt.Errorf("search: shard %d/%d: want 0 <= i < N", c.Shard, c.Shards)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

func (c *Config) shardName() string {
	if c.Shards == 1 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", c.Shard, c.Shards)
}

// FitStage enumerates every formula of the system's vocabulary up to
// c.Depth and fits this shard's share of them on d's training sequences.
func (c Config) FitStage(v *kernels.Vulkan, d *physics.Dataset) (*FitReport, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	voc, err := formulas.VocabularyFor(c.System)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	exprs, _, err := formulas.Enumerate(voc, c.Depth, nil)
	if err != nil {
		return nil, err
	}
	rep := &FitReport{Kind: "fit", System: c.System, Depth: c.Depth, Shard: c.shardName(), Enumerated: len(exprs)}
	rep.Stages = append(rep.Stages, Stage{"enumerate", time.Since(began).Seconds()})
	fmt.Fprintf(c.Progress, "enumerate: %d formulas of at most %d nodes (%.1f s)\n", len(exprs), c.Depth, rep.Stages[0].Seconds)

	var mine []*formulas.Expr
	var index []int
	for i, e := range exprs {
		if i%c.Shards == c.Shard {
			mine, index = append(mine, e), append(index, i)
		}
	}
	data, err := formulas.NewFitData(d.Name, c.fitStates(d), c.fitDataOptions())
	if err != nil {
		return nil, err
	}
	rep.Settings = c.FitSettings()
	began = time.Now()
	opt := c.Fit
	opt.Progress = func(done, total int) {
		fmt.Fprintf(c.Progress, "\rfit: %d/%d candidates (formulas x starts)  %.0f s", done, total, time.Since(began).Seconds())
	}
	fits, err := formulas.FitBatch(v, mine, data, opt)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(c.Progress)
	rep.Stages = append(rep.Stages, Stage{"fit", time.Since(began).Seconds()})
	rep.Fitted = len(mine)
	for i, f := range fits {
		s := f.Score
		if math.IsNaN(s) || math.IsInf(s, 0) {
			s = math.MaxFloat64
		}
		r := FitRecord{Index: index[i], Formula: mine[i].String(), Params: f.Params, Score: s, Accepted: s <= 1/c.AcceptRatio}
		if r.Accepted {
			rep.Accepted++
		}
		rep.Records = append(rep.Records, r)
	}
	sortRecords(rep.Records)
	return rep, nil
}

// fitStates are the training trajectories the formulas are fitted on:
// noise-free unless c.Noisy (the real pendulum has only its measurements).
func (c *Config) fitStates(d *physics.Dataset) [][][2]float64 {
	out := make([][][2]float64, len(d.Train))
	for i, t := range d.Train {
		out[i] = t.True
		if c.Noisy {
			out[i] = t.X
		}
	}
	return out
}

// fitDataOptions choose the sequences the formulas are fitted on.
func (c *Config) fitDataOptions() formulas.FitDataOptions {
	dopt := formulas.DefaultFitDataOptions()
	dopt.Seed = c.Experiment.Seed
	if c.System == "real-pendulum" {
		// A real pendulum is damped: its energy decays over a trial, so
		// conservation is scored over short pieces (16 samples, 2.7 s);
		// its few hundred points are cheap enough to use every one.
		dopt.Stride, dopt.MaxLen = 1, 16
	}
	return dopt
}

// FitSettings describes what a FitReport's records depend on: shards
// merge, and a resumed search reuses saved fits, only when these agree.
func (c Config) FitSettings() string {
	if err := c.defaults(); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("system=%s depth=%d seed=%d noisy=%v data=%+v fit=%d+%d@%g inits=%v accept=%g", c.System, c.Depth,
		c.Experiment.Seed, c.Noisy, c.fitDataOptions(), c.Fit.Steps, c.Fit.Polish, c.Fit.LR, c.Fit.Inits, c.AcceptRatio)
}

func sortRecords(rs []FitRecord) {
	slices.SortStableFunc(rs, func(a, b FitRecord) int { return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Index, b.Index)) })
}

// Search runs the candidate pipeline on the fitted formulas: the baseline,
// one tailoring step per accepted candidate at each inner rate, the top
// c.Top by tailoring loss meta-tailored from the baseline (this shard's
// share of them), selection by long-term training RMSE, and the oracle
// formula through the same stages.
func (c Config) Search(d *physics.Dataset, fits *FitReport) (*Report, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	if fits.Shard != "all" {
		return nil, fmt.Errorf("search: search needs every formula's fit; merge the fit shards first (got shard %s)", fits.Shard)
	}
	if fits.System != c.System {
		return nil, fmt.Errorf("search: the fits are of %s, the search is of %s", fits.System, c.System)
	}
	rep := &Report{Kind: "search", System: c.System, Shard: c.shardName(), Stages: slices.Clone(fits.Stages),
		CandidatesEnumerated: fits.Enumerated, CandidatesAccepted: fits.Accepted}
	var accepted []FitRecord
	for _, r := range fits.Records {
		if r.Accepted {
			accepted = append(accepted, r)
		}
	}
	if len(accepted) == 0 {
		best := "none fitted"
		if len(fits.Records) > 0 {
			best = fmt.Sprintf("the best, %s, scored %.3g", fits.Records[0].Formula, fits.Records[0].Score)
		}
		return nil, fmt.Errorf("search: no formula passed the %gx conservation filter (%s); try a larger --depth or --accept-ratio", c.AcceptRatio, best)
	}

	stage := func(name string, began time.Time) {
		rep.Stages = append(rep.Stages, Stage{name, time.Since(began).Seconds()})
	}
	began := time.Now()
	base, err := c.Experiment.TrainBaseline(d)
	if err != nil {
		return nil, err
	}
	rep.BaselineTestRMSE = base.TestRMSE
	stage("baseline", began)
	run := &runner{cfg: c.Experiment, data: d, base: base}

	began = time.Now()
	cands := make([]CandidateResult, len(accepted))
	for i, r := range accepted {
		f, err := formulas.Parse(r.Formula)
		if err != nil {
			return nil, fmt.Errorf("search: fitted formula %q: %w", r.Formula, err)
		}
		cands[i] = CandidateResult{Formula: r.Formula, Params: r.Params, Score: r.Score}
		if err := run.sweep(&cands[i], f, c.InnerLRs); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.Progress, "\rtailor: %d/%d candidates  %.0f s", i+1, len(accepted), time.Since(began).Seconds())
	}
	fmt.Fprintln(c.Progress)
	slices.SortStableFunc(cands, func(a, b CandidateResult) int { return cmp.Compare(a.TailorRMSE, b.TailorRMSE) })
	cands = cands[:min(c.Top, len(cands))]
	stage("tailor", began)

	began = time.Now()
	states := d.TrainX()
	for i := range cands {
		cands[i].Rank = i
		if i%c.Shards != c.Shard {
			continue
		}
		fmt.Fprintf(c.Progress, "meta-tailor %d/%d: %s %v (tailoring rate %.3g)\n", i+1, len(cands), cands[i].Formula, cands[i].Params, cands[i].TailorLR)
		if err := run.assess(&cands[i], candidateDir(c.Experiment.Dir, i), states, c.MetaRates); err != nil {
			return nil, err
		}
	}
	rep.Top = cands
	stage("meta-tailor", began)

	if c.Shard == 0 {
		began = time.Now()
		f, params, err := Oracle(c.System)
		if err != nil {
			return nil, err
		}
		oracle := CandidateResult{Rank: -1, Formula: f.String(), Params: params}
		if err := run.sweep(&oracle, f, c.InnerLRs); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.Progress, "oracle: %s %v (tailoring rate %.3g)\n", oracle.Formula, params, oracle.TailorLR)
		if err := run.assess(&oracle, filepath.Join(c.Experiment.Dir, "oracle"), states, c.MetaRates); err != nil {
			return nil, err
		}
		rep.Oracle, rep.OracleTestRMSE = &oracle, *oracle.TestRMSE
		stage("oracle", began)
	}
	for _, s := range rep.Stages {
		rep.Seconds += s.Seconds
	}
	if c.Shards > 1 {
		return rep, nil // Merge chooses among every shard's candidates
	}
	return rep, rep.choose()
}

// sweep fills a candidate's tailoring stage: its best inner rate and the
// training RMSE there.
func (r *runner) sweep(cr *CandidateResult, f *formulas.Expr, lrs []float64) error {
	losses, err := r.tailorSweep(f, cr.Params, lrs)
	if err != nil {
		return fmt.Errorf("search: tailoring with %s: %w", cr.Formula, err)
	}
	best := slices.Index(losses, slices.Min(losses))
	cr.TailorLR, cr.TailorRMSE = lrs[best], losses[best]
	if math.IsInf(cr.TailorRMSE, 0) {
		cr.TailorRMSE = math.MaxFloat64 // JSON has no infinity
	}
	return nil
}

// assess meta-tailors a candidate at each factor of its tailoring rate
// (each in its own folder under dir), keeps the rate with the lowest
// training RMSE and measures the candidate there.
func (r *runner) assess(cr *CandidateResult, dir string, states [][2]float64, factors []float64) error {
	f, err := formulas.Parse(cr.Formula)
	if err != nil {
		return err
	}
	cr.Rates, cr.Diverged = nil, true
	for _, k := range factors {
		lr := cr.TailorLR * k
		res, err := r.metaTailor(f, cr.Params, lr, filepath.Join(dir, fmt.Sprintf("lr%.4g", lr)))
		if err != nil {
			return fmt.Errorf("search: meta-tailoring with %s at rate %.3g: %w", cr.Formula, lr, err)
		}
		train, test := res.TrainRMSE, res.TestRMSE
		if math.IsNaN(train) || math.IsNaN(test) {
			cr.Rates = append(cr.Rates, RateResult{LR: lr, Diverged: true})
			continue
		}
		cr.Rates = append(cr.Rates, RateResult{LR: lr, TrainRMSE: train, TestRMSE: test})
		if cr.TrainRMSE == nil || train < *cr.TrainRMSE {
			cr.InnerLR, cr.TrainRMSE, cr.TestRMSE, cr.Diverged = lr, &train, &test, false
		}
	}
	if cr.Diverged {
		return nil
	}
	q, err := Compare(f, cr.Params, r.data.Name, states)
	if err != nil {
		return err
	}
	cr.Equivalence = &q
	return nil
}

// choose picks the meta-tailored candidate with the lowest long-term
// training RMSE; a diverged one (NaN) never wins.
func (r *Report) choose() error {
	best := -1
	for i, c := range r.Top {
		if c.TrainRMSE == nil {
			continue
		}
		if best < 0 || *c.TrainRMSE < *r.Top[best].TrainRMSE {
			best = i
		}
	}
	if best < 0 {
		return fmt.Errorf("search: every one of the %d meta-tailored candidates diverged", len(r.Top))
	}
	c := r.Top[best]
	r.Formula, r.Params, r.TestRMSE, r.TrainRMSE, r.Equivalence = c.Formula, maps.Clone(c.Params), *c.TestRMSE, *c.TrainRMSE, c.Equivalence
	return nil
}
