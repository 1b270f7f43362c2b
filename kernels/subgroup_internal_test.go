package kernels

import (
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
)

// TestSubgroupVariant: the subgroup variant only when it is on, the
// device has subgroup arithmetic in compute shaders and the workgroup is
// whole subgroups.
func TestSubgroupVariant(t *testing.T) {
	lavapipe := gpu.Info{SubgroupSize: 8, SubgroupInCompute: true, SubgroupOperations: []string{"basic", "vote", "arithmetic", "ballot", "shuffle"}}
	noArith := lavapipe
	noArith.SubgroupOperations = []string{"basic", "shuffle"}
	notCompute := lavapipe
	notCompute.SubgroupInCompute = false
	for _, c := range []struct {
		info  gpu.Info
		on    bool
		local uint32
		want  string
	}{
		{lavapipe, true, 64, "rowwise_subgroup"},
		{lavapipe, true, 8, "rowwise_subgroup"},
		{lavapipe, true, 4, "rowwise"},
		{lavapipe, false, 64, "rowwise"},
		{noArith, true, 64, "rowwise"},
		{notCompute, true, 64, "rowwise"},
	} {
		v := &Vulkan{Device: &gpu.Device{Info: c.info}, SubgroupReduce: c.on}
		if got := v.subgroupVariant("rowwise", c.local); got != c.want {
			t.Errorf("%v, on %v, workgroup %d: %s, want %s", c.info.SubgroupOperations, c.on, c.local, got, c.want)
		}
	}
}
