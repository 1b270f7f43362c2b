// vkshim: the few Vulkan calls that vulkan-go lacks (Vulkan 1.1+ queries,
// feature chains, the debug-utils messenger) and a one-call dispatch
// recorder for the hot path. Function pointers are resolved by us, so
// only the runtime loader (libvulkan.so.1) is needed at run time.
#ifndef NOETHER_VKSHIM_H
#define NOETHER_VKSHIM_H

#include <stdint.h>
#include <vulkan/vulkan.h>

// nvk_load opens the Vulkan loader and returns vkGetInstanceProcAddr,
// or NULL with a reason copied into err (errlen bytes).
void *nvk_load(char *err, int errlen);

// nvk_create_instance creates an instance for api_version. With validate,
// VK_LAYER_KHRONOS_validation and VK_EXT_debug_utils are enabled (and
// synchronization validation with sync). portability adds
// VK_KHR_portability_enumeration so MoltenVK devices are listed. The nextra
// names in extra are enabled too (a window system's surface extensions).
VkResult nvk_create_instance(PFN_vkGetInstanceProcAddr gipa, uint32_t api_version, uint32_t validate, uint32_t sync,
                             uint32_t portability, const char *const *extra, uint32_t nextra, VkInstance *out);

// nvk_instance_version is the loader's instance-level API version.
uint32_t nvk_instance_version(PFN_vkGetInstanceProcAddr gipa);

// Facts vulkan-go cannot query (Vulkan 1.1/1.2 property and feature chains).
typedef struct {
	uint32_t subgroup_size;
	uint32_t subgroup_stages;
	uint32_t subgroup_ops;
	uint32_t has_driver_props;
	char driver_name[VK_MAX_DRIVER_NAME_SIZE];
	char driver_info[VK_MAX_DRIVER_INFO_SIZE];
	uint32_t driver_id;
	uint32_t float32_atomic_add;        // buffer float32 atomicAdd
	uint32_t float32_atomic_add_shared; // shared-memory float32 atomicAdd
	uint32_t shader_float16;
	uint32_t shader_int8;
	uint32_t storage_buffer_16bit;
	uint32_t shader_float64;
	uint32_t shader_int64;
	uint32_t subgroup_size_control;
	uint32_t min_subgroup_size;
	uint32_t max_subgroup_size;
	uint64_t max_memory_allocation_size; // Vulkan 1.1 maintenance3
} nvk_facts;

// Which optional pieces the device supports; decides the pNext chains.
typedef struct {
	uint32_t api_version;
	uint32_t ext_atomic_float;     // VK_EXT_shader_atomic_float
	uint32_t ext_float16_int8;     // VK_KHR_shader_float16_int8 (core 1.2)
	uint32_t ext_driver_props;     // VK_KHR_driver_properties (core 1.2)
	uint32_t ext_subgroup_control; // VK_EXT_subgroup_size_control (core 1.3)
} nvk_support;

void nvk_query_facts(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd,
                     const nvk_support *sup, nvk_facts *out);

// What to enable at device creation.
typedef struct {
	uint32_t float32_atomic_add;
	uint32_t float32_atomic_add_shared;
	uint32_t shader_float16;
	uint32_t storage_buffer_16bit;
	uint32_t swapchain; // VK_KHR_swapchain, to present to a window
} nvk_enable;

VkResult nvk_create_device(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd,
                           uint32_t queue_family, const nvk_support *sup, const nvk_enable *en,
                           VkDevice *out);

// nvk_surface_support reports whether queue family of pd can present to
// surface (VK_KHR_surface).
uint32_t nvk_surface_support(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, uint32_t family,
                             VkSurfaceKHR surface);
void nvk_destroy_surface(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkSurfaceKHR surface);

// Debug-utils messenger whose callback hands every message to the Go
// collector identified by handle.
VkResult nvk_create_messenger(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, uintptr_t handle,
                              VkDebugUtilsMessengerEXT *out);
void nvk_destroy_messenger(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDebugUtilsMessengerEXT m);

// A compute pipeline from a module, with specialization constants
// 0..nspec-1 taken from spec (4 bytes each), at most NVK_MAX_SPEC.
#define NVK_MAX_SPEC 40
VkResult nvk_create_compute_pipeline(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDevice dev,
                                     VkShaderModule module, VkPipelineLayout layout,
                                     const uint32_t *spec, uint32_t nspec, VkPipeline *out);

// nvk_create_sets makes one descriptor pool holding exactly nsets storage-
// buffer sets (ndesc descriptors in all), allocates the sets with the given
// layouts and writes their bindings: set i binds counts[i] consecutive
// entries of buffers/offsets/ranges to bindings 0..counts[i]-1, each as a
// uniform texel buffer through views[k] where that is not VK_NULL_HANDLE.
// Sizing the pool from the recorded program means it cannot run out.
VkResult nvk_create_sets(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDevice dev, uint32_t nsets,
                         uint32_t ndesc, const VkDescriptorSetLayout *layouts, const uint32_t *counts,
                         const VkBuffer *buffers, const VkDeviceSize *offsets, const VkDeviceSize *ranges,
                         const VkBufferView *views, VkDescriptorPool *pool, VkDescriptorSet *sets);

// Device-level command functions, resolved once per device.
typedef struct {
	PFN_vkCmdBindPipeline bind_pipeline;
	PFN_vkCmdBindDescriptorSets bind_sets;
	PFN_vkCmdPushConstants push_constants;
	PFN_vkCmdDispatch dispatch;
	PFN_vkCmdPipelineBarrier barrier;
	PFN_vkCmdWriteTimestamp timestamp;
	PFN_vkQueueSubmit submit;
	PFN_vkWaitForFences wait;
	PFN_vkResetFences reset;
	PFN_vkCmdCopyBuffer copy;
} nvk_cmds;

// nvk_cmd_copy records one buffer-to-buffer copy. (vulkan-go's
// CmdCopyBuffer, like its other calls that take a slice of structs, hands
// the driver C memory that a Go finalizer may free during the call.)
void nvk_cmd_copy(const nvk_cmds *c, VkCommandBuffer cmd, VkBuffer src, VkBuffer dst, VkDeviceSize src_off,
                  VkDeviceSize dst_off, VkDeviceSize size);

// The enumerations, into caller memory (vulkan-go's free theirs early; see
// nvk_cmd_copy): with props NULL each sets *n to the count. pd-level ones
// take the instance.
VkResult nvk_instance_layers(PFN_vkGetInstanceProcAddr gipa, uint32_t *n, VkLayerProperties *props);
VkResult nvk_instance_extensions(PFN_vkGetInstanceProcAddr gipa, uint32_t *n, VkExtensionProperties *props);
VkResult nvk_device_extensions(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, uint32_t *n,
                               VkExtensionProperties *props);
void nvk_queue_families(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, uint32_t *n,
                        VkQueueFamilyProperties *props);

void nvk_load_cmds(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDevice dev, nvk_cmds *out);

// One dispatch: bind pipeline (when it changed), bind the set, push
// constants, dispatch. One cgo crossing instead of four.
void nvk_cmd_dispatch(const nvk_cmds *c, VkCommandBuffer cmd, VkPipeline pipe, int bind_pipe,
                      VkPipelineLayout layout, VkDescriptorSet set, const void *push,
                      uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz);

// nvk_submit submits one command buffer signalling fence; nvk_wait waits
// for the fence up to timeout_ns and resets it. The hot path of every Run,
// so no allocation and one cgo crossing each.
VkResult nvk_submit(const nvk_cmds *c, VkQueue q, VkCommandBuffer cmd, VkFence fence);
VkResult nvk_wait(const nvk_cmds *c, VkDevice dev, VkFence fence, uint64_t timeout_ns);

// A global memory barrier between the compute/transfer stages.
void nvk_cmd_barrier(const nvk_cmds *c, VkCommandBuffer cmd, uint32_t to_host);

#endif
