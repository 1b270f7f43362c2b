// Shared helpers for 1-D kernels. Grids longer than the device's
// per-dimension workgroup limit fold into y (gpu.Device.Grid), so the
// flat index is x + y * (groups in x * local size in x).
//
// Include this AFTER the layout(local_size_x_id = ...) declaration:
// glslang folds gl_WorkGroupSize to (1,1,1) in code it meets earlier.
uint flat_index() {
	return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}
