package search

import (
	"encoding/json"
	"testing"
)

// shardParts are the fit outputs of a 2-way split of 3 formulas.
func shardParts() (a, b []byte) {
	enc := func(r *FitReport) []byte {
		out, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		return out
	}
	stages := []Stage{{"enumerate", 1}, {"fit", 2}}
	a = enc(&FitReport{Kind: "fit", System: "pendulum", Depth: 3, Shard: "0/2", Settings: "s", Enumerated: 3, Fitted: 2, Accepted: 1, Stages: stages,
		Records: []FitRecord{{Index: 0, Formula: "p", Score: 0.5}, {Index: 2, Formula: "p^2 - c*cos(q)", Params: map[string]float64{"c": 3}, Score: 0.001, Accepted: true}}})
	b = enc(&FitReport{Kind: "fit", System: "pendulum", Depth: 3, Shard: "1/2", Settings: "s", Enumerated: 3, Fitted: 1, Stages: stages,
		Records: []FitRecord{{Index: 1, Formula: "q", Score: 0.2}}})
	return a, b
}

// FuzzMerge: whatever two shard outputs hold, merging them fails or gives
// a report that holds what it claims: for fits, one record of every
// enumerated formula, as many accepted as it says. A valid output whose
// record list was cut short (which merged before, claiming more fits than
// it held) must fail.
func FuzzMerge(f *testing.F) {
	a, b := shardParts()
	f.Add(a, b)
	var cut FitReport
	if err := json.Unmarshal(a, &cut); err != nil {
		f.Fatal(err)
	}
	cut.Records = cut.Records[:1]
	short, _ := json.Marshal(&cut)
	f.Add(short, b)
	f.Add([]byte(`{"kind":"search","system":"pendulum","shard":"0/1","top":[{"rank":0,"formula":"p","train_rmse":0.1}],"oracle":{"rank":-1,"formula":"p"}}`), []byte(`{}`))
	f.Add([]byte(`{"kind":"search","shard":"0/2","top":[]}`), []byte(`{"kind":"search","shard":"1/2","top":[],"oracle":{"rank":-1}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, err := DecodePart("a.json", a)
		if err != nil {
			return
		}
		pb, err := DecodePart("b.json", b)
		if err != nil {
			return
		}
		fits, searches, err := Merge([]Part{pa, pb})
		if err != nil {
			return
		}
		if searches != nil {
			if searches.Formula == "" || searches.Oracle == nil {
				t.Fatalf("merged search without a selection or an oracle: %+v", searches)
			}
			return
		}
		seen := map[int]bool{}
		accepted := 0
		for _, r := range fits.Records {
			if r.Index < 0 || r.Index >= fits.Enumerated || seen[r.Index] {
				t.Fatalf("merged record of formula %d of %d, or twice", r.Index, fits.Enumerated)
			}
			seen[r.Index] = true
			if r.Accepted {
				accepted++
			}
		}
		if len(fits.Records) != fits.Enumerated || fits.Fitted != fits.Enumerated || accepted != fits.Accepted {
			t.Fatalf("merged %d records of %d formulas, claiming %d fitted and %d accepted (%d are)", len(fits.Records), fits.Enumerated, fits.Fitted, fits.Accepted, accepted)
		}
	})
}
