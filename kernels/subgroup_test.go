package kernels_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// subgroupReduceOps are the suite's ops whose kernels reduce across a
// workgroup (shaders/wgreduce.glsl): the normalizations (statistics,
// batch_norm's running statistics, the derivatives' sums), the rowwise
// ops, the losses, clip_grad_norm's sums of squares and cn_affine's
// backward.
var subgroupReduceOps = []string{"group_norm", "batch_norm", "row_minmax", "row_sign", "row_jet", "mse", "gaussian_kl", "clip_grad_norm", "cn_affine"}

// TestVulkanSubgroupReduce runs those ops' cases with the workgroup
// reductions in shared-memory trees and, where the device has subgroup
// arithmetic, in subgroups (make test runs it at lavapipe's subgroup
// sizes 4, 8 and 16).
func TestVulkanSubgroupReduce(t *testing.T) {
	v := openVulkan(t)
	for _, op := range subgroupReduceOps {
		if !slices.Contains(kerneltest.Ops(), op) {
			t.Fatalf("the suite has no op %q", op)
		}
	}
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("subgroup=%v", on), func(t *testing.T) {
			v.SubgroupReduce = on
			for _, r := range kerneltest.Run(v, kerneltest.Options{Seed: 1, Ops: subgroupReduceOps}) {
				if !r.Pass {
					t.Errorf("%s %s [%s]: max abs %.3g, max rel %.3g, tol %s: %s", r.Op, r.Shape, r.Check, r.MaxAbsErr, r.MaxRelErr, r.Tol, r.Detail)
				}
			}
		})
	}
}
