package kernels

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Tuning holds the kernel variants chosen for one device, shape by shape
// (noether-vk tune measures them; package kernels/tune stores them). The
// Vulkan backend runs a shape's tuned variant when Vulkan.Tuning has one
// and the default otherwise; a nil *Tuning runs the defaults everywhere.
// Tuned matmul variants change no result: every matmul variant gives the
// same bits. Tuned conv forms (Conv) change the results' rounding.
//
// A Tuning also records the products and conv passes it was asked about
// and had no entry for (Missed, MissedConvs): how the tuner learns the
// shapes a model uses, by compiling the model's programs with an empty
// Tuning.
type Tuning struct {
	// MatMul maps MatMulParams.TuneKey to the variant for that product.
	MatMul map[string]MatMulVariant
	// MatMulOthers, when set, runs every product MatMul has no entry for
	// (to test or time one variant everywhere).
	MatMulOthers *MatMulVariant
	// Conv maps ConvPrim.TuneKey to the form that conv pass runs in when
	// Vulkan.Conv is ConvAuto. Unlike the matmul variants, the forms add
	// in different orders: their results differ in rounding.
	Conv map[string]ConvPath

	mu         sync.Mutex
	hits       int
	missed     map[string]MatMulParams
	missedConv map[string]ConvPrim
}

// conv is the form tuned for c (ConvAuto, false: none). It is safe on a
// nil *Tuning and for concurrent use.
func (t *Tuning) conv(c ConvPrim) (ConvPath, bool) {
	if t == nil {
		return ConvAuto, false
	}
	key := c.TuneKey()
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.Conv[key]; ok {
		t.hits++
		return f, true
	}
	if t.missedConv == nil {
		t.missedConv = map[string]ConvPrim{}
	}
	t.missedConv[key] = c
	return ConvAuto, false
}

// MissedConvs lists the conv passes looked up without an entry in Conv,
// ordered by key.
func (t *Tuning) MissedConvs() []ConvPrim {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := slices.Sorted(maps.Keys(t.missedConv))
	out := make([]ConvPrim, len(keys))
	for i, k := range keys {
		out[i] = t.missedConv[k]
	}
	return out
}

// matMul is the variant tuned for p (false: none; run the default). It is
// safe on a nil *Tuning and for concurrent use.
func (t *Tuning) matMul(p MatMulParams) (MatMulVariant, bool) {
	if t == nil {
		return MatMulVariant{}, false
	}
	key := p.TuneKey()
	t.mu.Lock()
	defer t.mu.Unlock()
	if mv, ok := t.MatMul[key]; ok {
		t.hits++
		return mv, true
	}
	if t.missed == nil {
		t.missed = map[string]MatMulParams{}
	}
	t.missed[key] = p.normalized()
	if t.MatMulOthers != nil {
		t.hits++
		return *t.MatMulOthers, true
	}
	return MatMulVariant{}, false
}

// WithTuning runs f with v.Tuning set to t (nil: the defaults) and
// restores it after.
func (v *Vulkan) WithTuning(t *Tuning, f func() error) error {
	saved := v.Tuning
	defer func() { v.Tuning = saved }()
	v.Tuning = t
	return f()
}

// Hits counts the products and conv passes looked up with a tuned
// variant or form so far.
func (t *Tuning) Hits() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hits
}

// Missed lists the products looked up without an entry in MatMul, in the
// form the kernel runs them (see TuneKey), ordered by key.
func (t *Tuning) Missed() []MatMulParams {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.missed))
	for k := range t.missed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]MatMulParams, len(keys))
	for i, k := range keys {
		out[i] = t.missed[k]
	}
	return out
}

// normalized is p as the kernel runs it: a batch of A against one shared
// B folded into one product of Batch*M rows.
func (p MatMulParams) normalized() MatMulParams {
	if p.mergesBatch() {
		p.M, p.Batch, p.BatchA = p.Batch*p.M, 1, false
	}
	return p
}

// TuneKey names the product's shape for the tuning cache: batch, M, N, K,
// then n or t for each operand's layout and b or s for batched or shared,
// as the kernel runs it (so a batch of rows against one weight is keyed
// as one tall product), e.g. "1x1125x200x200 nn ss".
func (p MatMulParams) TuneKey() string {
	p = p.normalized()
	l := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	return fmt.Sprintf("%dx%dx%dx%d %s%s %s%s", p.Batch, p.M, p.N, p.K,
		l(p.TransA, "t", "n"), l(p.TransB, "t", "n"), l(p.BatchA, "b", "s"), l(p.BatchB, "b", "s"))
}

// MatMulCandidates are the variants the tuner times for p on this device:
// the default first, then register tiles around it and shared-memory
// tiles of the sizes GPUs favour, each fitted to thin products as the
// default is (the register tiles reading their operands as the default
// does, and the default's tile the other way too), without duplicates and
// within the device's limits.
func (v *Vulkan) MatMulCandidates(p MatMulParams) []MatMulVariant {
	def := v.DefaultMatMulVariant(p)
	q := p.normalized()
	out := []MatMulVariant{def}
	add := func(mv MatMulVariant) {
		if mv.SharedK == 0 {
			mv.MatMulTile = mv.MatMulTile.fit(q.M, q.N)
		}
		if v.CheckMatMulVariant(mv) == nil && !slices.Contains(out, mv) {
			out = append(out, mv)
		}
	}
	// The default tile reading its operands the other way tells whether
	// texels pay at this shape (compiling every tile both ways would
	// double the tuner's compile time for that).
	add(MatMulVariant{MatMulTile: DefaultMatMulTile, Texels: !v.Texels})
	for _, t := range []MatMulTile{{8, 8, 8, 2}, {16, 4, 8, 2}, {32, 8, 8, 1}, {16, 16, 8, 1}, {8, 8, 16, 2}, {16, 8, 16, 1}} {
		add(MatMulVariant{MatMulTile: t, Texels: v.Texels})
	}
	for _, s := range []MatMulVariant{
		{MatMulTile: MatMulTile{4, 4, 8, 8}, SharedK: 16},   // a 32 x 32 tile, 64 invocations
		{MatMulTile: MatMulTile{4, 4, 16, 16}, SharedK: 8},  // 64 x 64, 256
		{MatMulTile: MatMulTile{8, 4, 16, 8}, SharedK: 16},  // 64 x 64, 128
		{MatMulTile: MatMulTile{8, 8, 16, 16}, SharedK: 8},  // 128 x 128, 256
		{MatMulTile: MatMulTile{4, 8, 16, 16}, SharedK: 16}, // 64 x 128, 256
	} {
		add(s)
	}
	return out
}
