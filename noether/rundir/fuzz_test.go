package rundir

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// sampleManifest is a manifest as a resumed, partly failed run leaves it.
func sampleManifest() []byte {
	m := NewManifest()
	m.Settings = map[string]string{"task": "pendulum", "data": "4c3a6ccc", "seed": "0"}
	m.Commands = []Invocation{
		{Args: []string{"noether-vk", "train"}, Code: "v1", Started: "2026-12-02T18:52:30Z", Ended: "2026-12-02T18:53:30Z", State: StateStopped},
		{Args: []string{"noether-vk", "train", "--resume"}, Code: "v1", Started: "2026-12-02T18:54:30Z", State: StateFailed, Error: "1 of 2 methods failed"},
	}
	m.Phases["baseline"] = &PhaseState{State: StateDone, Settings: map[string]string{"lr": "0.001"}, Epochs: 2000, CheckpointEpoch: 2000, CheckpointStep: 2000}
	m.Phases["noether"] = &PhaseState{State: StateFailed, Epochs: 50, CheckpointEpoch: 7, CheckpointStep: 9, Error: "NaN",
		Changes: []SettingChange{{Epoch: 7, Name: "meta-lr", From: "0.0001", To: "3e-05"}}}
	m.Results["vanilla"] = &Result{State: StateDone, Numbers: map[string]float64{"test_rmse": 0.1118}}
	m.Results["noether"] = &Result{State: StateFailed, Error: "NaN"}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzDecodeManifest: whatever a manifest file holds, DecodeManifest
// returns an error or a manifest that passes its own checks and encodes
// back to the same manifest.
func FuzzDecodeManifest(f *testing.F) {
	good := sampleManifest()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"format": 1}`))
	f.Add([]byte(`{"format": 1, "phases": {"b": null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if err := m.check(); err != nil {
			t.Fatalf("accepted a manifest that fails its checks: %v", err)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("an accepted manifest does not encode: %v", err)
		}
		back, err := DecodeManifest(again)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("an accepted manifest reads back as %+v (%v), not %+v", back, err, m)
		}
	})
}

// FuzzEventLog: whatever an event log holds (a torn or edited line, a
// killed run's), scanning keeps a prefix of whole lines, each a JSON
// object, and cutting at an epoch keeps exactly the records up to it.
func FuzzEventLog(f *testing.F) {
	three := `{"config":"x"}` + "\n" + `{"epoch":1,"loss":0.5}` + "\n" + `{"epoch":2,"loss":"NaN"}` + "\n" + `{"epoch":3,"lo`
	f.Add([]byte(three), 1)
	f.Add([]byte("garbage\n"), 0)
	f.Add([]byte(`{"epoch":1e400}`+"\n"), 5)
	f.Add([]byte("[1]\n{}\n"), -1)
	f.Fuzz(func(t *testing.T, b []byte, keepUpTo int) {
		var all []map[string]any
		whole, err := scanEventLog(b, nil, func(r map[string]any) { all = append(all, r) })
		if err != nil {
			return
		}
		if whole > int64(len(b)) || whole > 0 && b[whole-1] != '\n' || bytes.Count(b[:whole], []byte("\n")) != len(all) {
			t.Fatalf("kept %d bytes of %d, %d records", whole, len(b), len(all))
		}
		var kept []map[string]any
		cut, err := scanEventLog(b, func(r map[string]any) bool {
			v, ok := r["epoch"].(float64)
			return !ok || v <= float64(keepUpTo)
		}, func(r map[string]any) { kept = append(kept, r) })
		if err != nil || cut > whole || len(kept) > len(all) || len(kept) > 0 && !reflect.DeepEqual(kept, all[:len(kept)]) {
			t.Fatalf("cut at epoch %d: %d bytes, %d records (%v); whole: %d bytes, %d records", keepUpTo, cut, len(kept), err, whole, len(all))
		}
		for _, r := range kept {
			if v, ok := r["epoch"].(float64); ok && v > float64(keepUpTo) {
				t.Fatalf("kept epoch %v after cutting at %d", v, keepUpTo)
			}
		}
	})
}
