#include "vkshim.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void *nvk_load(char *err, int errlen) {
	// The runtime package installs libvulkan.so.1; the unversioned name
	// exists only with the -dev package, so it is the fallback.
	const char *names[] = {"libvulkan.so.1", "libvulkan.so"};
	void *lib = NULL;
	for (int i = 0; i < 2 && lib == NULL; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *e = dlerror();
		snprintf(err, errlen, "%s", e ? e : "dlopen failed");
		return NULL;
	}
	void *gipa = dlsym(lib, "vkGetInstanceProcAddr");
	if (gipa == NULL) snprintf(err, errlen, "libvulkan has no vkGetInstanceProcAddr");
	return gipa;
}

uint32_t nvk_instance_version(PFN_vkGetInstanceProcAddr gipa) {
	PFN_vkEnumerateInstanceVersion ver =
	    (PFN_vkEnumerateInstanceVersion)gipa(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
	uint32_t v = VK_API_VERSION_1_0;
	if (ver != NULL && ver(&v) != VK_SUCCESS) v = VK_API_VERSION_1_0;
	return v;
}

VkResult nvk_create_instance(PFN_vkGetInstanceProcAddr gipa, uint32_t api_version, uint32_t validate, uint32_t sync,
                             uint32_t portability, const char *const *extra, uint32_t nextra, VkInstance *out) {
	PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(VK_NULL_HANDLE, "vkCreateInstance");
	if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	VkApplicationInfo app = {
	    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
	    .pApplicationName = "noether-vk",
	    .pEngineName = "noether-vk",
	    .apiVersion = api_version,
	};
	const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
	const char *exts[2 + 8];
	uint32_t next = 0;
	if (validate) exts[next++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
	if (portability) exts[next++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
	if (nextra > 8) return VK_ERROR_EXTENSION_NOT_PRESENT;
	for (uint32_t i = 0; i < nextra; i++) exts[next++] = extra[i];
	VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
	VkValidationFeaturesEXT vf = {
	    .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
	    .enabledValidationFeatureCount = 1,
	    .pEnabledValidationFeatures = enables,
	};
	VkInstanceCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
	    .pNext = (validate && sync) ? &vf : NULL,
	    .flags = portability ? VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR : 0,
	    .pApplicationInfo = &app,
	    .enabledLayerCount = validate ? 1 : 0,
	    .ppEnabledLayerNames = layers,
	    .enabledExtensionCount = next,
	    .ppEnabledExtensionNames = exts,
	};
	return create(&ci, NULL, out);
}

#define INST_FN(type, name) ((type)gipa(inst, name))

void nvk_query_facts(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd,
                     const nvk_support *sup, nvk_facts *out) {
	memset(out, 0, sizeof(*out));
	PFN_vkGetPhysicalDeviceProperties2 props2 =
	    INST_FN(PFN_vkGetPhysicalDeviceProperties2, "vkGetPhysicalDeviceProperties2");
	PFN_vkGetPhysicalDeviceFeatures2 feats2 =
	    INST_FN(PFN_vkGetPhysicalDeviceFeatures2, "vkGetPhysicalDeviceFeatures2");
	if (props2 == NULL || feats2 == NULL || sup->api_version < VK_API_VERSION_1_1) return;

	VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
	VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
	VkPhysicalDeviceSubgroupSizeControlProperties sgc = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
	VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
	VkPhysicalDeviceProperties2 p = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
	sg.pNext = &m3;
	void **tail = &m3.pNext;
	if (sup->ext_driver_props) { *tail = &drv; tail = &drv.pNext; }
	if (sup->ext_subgroup_control) { *tail = &sgc; tail = &sgc.pNext; }
	props2(pd, &p);
	out->subgroup_size = sg.subgroupSize;
	out->subgroup_stages = sg.supportedStages;
	out->subgroup_ops = sg.supportedOperations;
	out->max_memory_allocation_size = m3.maxMemoryAllocationSize;
	if (sup->ext_driver_props) {
		out->has_driver_props = 1;
		out->driver_id = drv.driverID;
		memcpy(out->driver_name, drv.driverName, sizeof(out->driver_name));
		memcpy(out->driver_info, drv.driverInfo, sizeof(out->driver_info));
	}
	if (sup->ext_subgroup_control) {
		out->subgroup_size_control = 1;
		out->min_subgroup_size = sgc.minSubgroupSize;
		out->max_subgroup_size = sgc.maxSubgroupSize;
	}

	VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
	VkPhysicalDeviceShaderFloat16Int8Features f16 = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
	VkPhysicalDeviceShaderAtomicFloatFeaturesEXT af = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT};
	VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
	tail = &s16.pNext;
	if (sup->ext_float16_int8) { *tail = &f16; tail = &f16.pNext; }
	if (sup->ext_atomic_float) { *tail = &af; tail = &af.pNext; }
	feats2(pd, &f);
	out->storage_buffer_16bit = s16.storageBuffer16BitAccess;
	out->shader_float16 = f16.shaderFloat16;
	out->shader_int8 = f16.shaderInt8;
	out->float32_atomic_add = af.shaderBufferFloat32AtomicAdd;
	out->float32_atomic_add_shared = af.shaderSharedFloat32AtomicAdd;
	out->shader_float64 = f.features.shaderFloat64;
	out->shader_int64 = f.features.shaderInt64;
}

VkResult nvk_create_device(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd,
                           uint32_t queue_family, const nvk_support *sup, const nvk_enable *en,
                           VkDevice *out) {
	PFN_vkCreateDevice create = INST_FN(PFN_vkCreateDevice, "vkCreateDevice");
	if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	float prio = 1.0f;
	VkDeviceQueueCreateInfo q = {
	    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
	    .queueFamilyIndex = queue_family,
	    .queueCount = 1,
	    .pQueuePriorities = &prio,
	};
	const char *exts[4];
	uint32_t next = 0;

	VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
	VkPhysicalDeviceShaderFloat16Int8Features f16 = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
	VkPhysicalDeviceShaderAtomicFloatFeaturesEXT af = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT};
	VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
	void **tail = &s16.pNext;
	s16.storageBuffer16BitAccess = en->storage_buffer_16bit;
	if (en->shader_float16) {
		f16.shaderFloat16 = VK_TRUE;
		*tail = &f16;
		tail = &f16.pNext;
		if (sup->api_version < VK_API_VERSION_1_2) exts[next++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
	}
	if (en->float32_atomic_add || en->float32_atomic_add_shared) {
		af.shaderBufferFloat32AtomicAdd = en->float32_atomic_add;
		af.shaderSharedFloat32AtomicAdd = en->float32_atomic_add_shared;
		*tail = &af;
		tail = &af.pNext;
		exts[next++] = VK_EXT_SHADER_ATOMIC_FLOAT_EXTENSION_NAME;
	}
	if (en->swapchain) exts[next++] = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
	VkDeviceCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
	    .pNext = &f,
	    .queueCreateInfoCount = 1,
	    .pQueueCreateInfos = &q,
	    .enabledExtensionCount = next,
	    .ppEnabledExtensionNames = exts,
	};
	return create(pd, &ci, NULL, out);
}

uint32_t nvk_surface_support(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, uint32_t family,
                             VkSurfaceKHR surface) {
	PFN_vkGetPhysicalDeviceSurfaceSupportKHR support =
	    INST_FN(PFN_vkGetPhysicalDeviceSurfaceSupportKHR, "vkGetPhysicalDeviceSurfaceSupportKHR");
	VkBool32 ok = VK_FALSE;
	if (support == NULL || support(pd, family, surface, &ok) != VK_SUCCESS) return 0;
	return ok == VK_TRUE;
}

void nvk_destroy_surface(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkSurfaceKHR surface) {
	PFN_vkDestroySurfaceKHR destroy = INST_FN(PFN_vkDestroySurfaceKHR, "vkDestroySurfaceKHR");
	if (destroy != NULL) destroy(inst, surface, NULL);
}

extern int nvkGoMessage(uintptr_t handle, int severity, int types, char *id, char *msg);

static VKAPI_ATTR VkBool32 VKAPI_CALL nvk_messenger_cb(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                       void *user) {
	nvkGoMessage((uintptr_t)user, (int)severity, (int)types, (char *)data->pMessageIdName,
	             (char *)data->pMessage);
	return VK_FALSE;
}

VkResult nvk_create_messenger(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, uintptr_t handle,
                              VkDebugUtilsMessengerEXT *out) {
	PFN_vkCreateDebugUtilsMessengerEXT create =
	    INST_FN(PFN_vkCreateDebugUtilsMessengerEXT, "vkCreateDebugUtilsMessengerEXT");
	if (create == NULL) return VK_ERROR_EXTENSION_NOT_PRESENT;
	VkDebugUtilsMessengerCreateInfoEXT ci = {
	    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
	    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
	                       VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
	    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
	                   VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
	                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
	    .pfnUserCallback = nvk_messenger_cb,
	    .pUserData = (void *)handle,
	};
	return create(inst, &ci, NULL, out);
}

void nvk_destroy_messenger(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDebugUtilsMessengerEXT m) {
	PFN_vkDestroyDebugUtilsMessengerEXT destroy =
	    INST_FN(PFN_vkDestroyDebugUtilsMessengerEXT, "vkDestroyDebugUtilsMessengerEXT");
	if (destroy != NULL) destroy(inst, m, NULL);
}

VkResult nvk_create_compute_pipeline(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDevice dev,
                                     VkShaderModule module, VkPipelineLayout layout,
                                     const uint32_t *spec, uint32_t nspec, VkPipeline *out) {
	PFN_vkCreateComputePipelines create = INST_FN(PFN_vkCreateComputePipelines, "vkCreateComputePipelines");
	if (create == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	VkSpecializationMapEntry entries[NVK_MAX_SPEC];
	if (nspec > NVK_MAX_SPEC) return VK_ERROR_INITIALIZATION_FAILED;
	for (uint32_t i = 0; i < nspec; i++) {
		entries[i].constantID = i;
		entries[i].offset = i * 4;
		entries[i].size = 4;
	}
	VkSpecializationInfo si = {
	    .mapEntryCount = nspec,
	    .pMapEntries = entries,
	    .dataSize = nspec * 4,
	    .pData = spec,
	};
	VkComputePipelineCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
	    .stage =
	        {
	            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
	            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
	            .module = module,
	            .pName = "main",
	            .pSpecializationInfo = nspec ? &si : NULL,
	        },
	    .layout = layout,
	};
	return create(dev, VK_NULL_HANDLE, 1, &ci, NULL, out);
}

VkResult nvk_create_sets(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDevice dev, uint32_t nsets,
                         uint32_t ndesc, const VkDescriptorSetLayout *layouts, const uint32_t *counts,
                         const VkBuffer *buffers, const VkDeviceSize *offsets, const VkDeviceSize *ranges,
                         const VkBufferView *views, VkDescriptorPool *pool, VkDescriptorSet *sets) {
	PFN_vkCreateDescriptorPool create_pool = INST_FN(PFN_vkCreateDescriptorPool, "vkCreateDescriptorPool");
	PFN_vkAllocateDescriptorSets alloc = INST_FN(PFN_vkAllocateDescriptorSets, "vkAllocateDescriptorSets");
	PFN_vkUpdateDescriptorSets update = INST_FN(PFN_vkUpdateDescriptorSets, "vkUpdateDescriptorSets");
	PFN_vkDestroyDescriptorPool destroy = INST_FN(PFN_vkDestroyDescriptorPool, "vkDestroyDescriptorPool");
	if (!create_pool || !alloc || !update || !destroy) return VK_ERROR_INITIALIZATION_FAILED;
	uint32_t ntexel = 0;
	for (uint32_t k = 0; k < ndesc; k++) ntexel += views[k] != VK_NULL_HANDLE;
	VkDescriptorPoolSize sizes[2] = {
	    {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = ndesc - ntexel ? ndesc - ntexel : 1},
	    {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = ntexel},
	};
	VkDescriptorPoolCreateInfo pci = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
	    .maxSets = nsets ? nsets : 1,
	    .poolSizeCount = ntexel ? 2 : 1,
	    .pPoolSizes = sizes,
	};
	VkResult r = create_pool(dev, &pci, NULL, pool);
	if (r != VK_SUCCESS || nsets == 0) return r;
	VkDescriptorSetAllocateInfo ai = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
	    .descriptorPool = *pool,
	    .descriptorSetCount = nsets,
	    .pSetLayouts = layouts,
	};
	r = alloc(dev, &ai, sets);
	if (r != VK_SUCCESS) {
		destroy(dev, *pool, NULL);
		*pool = VK_NULL_HANDLE;
		return r;
	}
	VkDescriptorBufferInfo *infos = calloc(ndesc ? ndesc : 1, sizeof(*infos));
	VkWriteDescriptorSet *writes = calloc(ndesc ? ndesc : 1, sizeof(*writes));
	if (!infos || !writes) {
		free(infos);
		free(writes);
		destroy(dev, *pool, NULL);
		*pool = VK_NULL_HANDLE;
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	uint32_t k = 0, nw = 0;
	for (uint32_t i = 0; i < nsets; i++) {
		for (uint32_t b = 0; b < counts[i]; b++, k++) {
			infos[k].buffer = buffers[k];
			infos[k].offset = offsets[k];
			infos[k].range = ranges[k];
			writes[nw] = (VkWriteDescriptorSet){
			    .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			    .dstSet = sets[i],
			    .dstBinding = b,
			    .descriptorCount = 1,
			    .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			    .pBufferInfo = &infos[k],
			};
			if (views[k] != VK_NULL_HANDLE) {
				writes[nw].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
				writes[nw].pBufferInfo = NULL;
				writes[nw].pTexelBufferView = &views[k];
			}
			nw++;
		}
	}
	update(dev, nw, writes, 0, NULL);
	free(infos);
	free(writes);
	return VK_SUCCESS;
}

void nvk_load_cmds(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkDevice dev, nvk_cmds *out) {
	PFN_vkGetDeviceProcAddr gdpa = INST_FN(PFN_vkGetDeviceProcAddr, "vkGetDeviceProcAddr");
	out->bind_pipeline = (PFN_vkCmdBindPipeline)gdpa(dev, "vkCmdBindPipeline");
	out->bind_sets = (PFN_vkCmdBindDescriptorSets)gdpa(dev, "vkCmdBindDescriptorSets");
	out->push_constants = (PFN_vkCmdPushConstants)gdpa(dev, "vkCmdPushConstants");
	out->dispatch = (PFN_vkCmdDispatch)gdpa(dev, "vkCmdDispatch");
	out->barrier = (PFN_vkCmdPipelineBarrier)gdpa(dev, "vkCmdPipelineBarrier");
	out->timestamp = (PFN_vkCmdWriteTimestamp)gdpa(dev, "vkCmdWriteTimestamp");
	out->submit = (PFN_vkQueueSubmit)gdpa(dev, "vkQueueSubmit");
	out->wait = (PFN_vkWaitForFences)gdpa(dev, "vkWaitForFences");
	out->reset = (PFN_vkResetFences)gdpa(dev, "vkResetFences");
	out->copy = (PFN_vkCmdCopyBuffer)gdpa(dev, "vkCmdCopyBuffer");
}

void nvk_cmd_copy(const nvk_cmds *c, VkCommandBuffer cmd, VkBuffer src, VkBuffer dst, VkDeviceSize src_off,
                  VkDeviceSize dst_off, VkDeviceSize size) {
	VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = size};
	c->copy(cmd, src, dst, 1, &region);
}

VkResult nvk_instance_layers(PFN_vkGetInstanceProcAddr gipa, uint32_t *n, VkLayerProperties *props) {
	PFN_vkEnumerateInstanceLayerProperties f =
	    (PFN_vkEnumerateInstanceLayerProperties)gipa(VK_NULL_HANDLE, "vkEnumerateInstanceLayerProperties");
	if (f == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	return f(n, props);
}

VkResult nvk_instance_extensions(PFN_vkGetInstanceProcAddr gipa, uint32_t *n, VkExtensionProperties *props) {
	PFN_vkEnumerateInstanceExtensionProperties f =
	    (PFN_vkEnumerateInstanceExtensionProperties)gipa(VK_NULL_HANDLE, "vkEnumerateInstanceExtensionProperties");
	if (f == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	return f(NULL, n, props);
}

VkResult nvk_device_extensions(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, uint32_t *n,
                               VkExtensionProperties *props) {
	PFN_vkEnumerateDeviceExtensionProperties f =
	    INST_FN(PFN_vkEnumerateDeviceExtensionProperties, "vkEnumerateDeviceExtensionProperties");
	if (f == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	return f(pd, NULL, n, props);
}

void nvk_queue_families(PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, uint32_t *n,
                        VkQueueFamilyProperties *props) {
	PFN_vkGetPhysicalDeviceQueueFamilyProperties f =
	    INST_FN(PFN_vkGetPhysicalDeviceQueueFamilyProperties, "vkGetPhysicalDeviceQueueFamilyProperties");
	if (f == NULL) {
		*n = 0;
		return;
	}
	f(pd, n, props);
}

VkResult nvk_submit(const nvk_cmds *c, VkQueue q, VkCommandBuffer cmd, VkFence fence) {
	VkSubmitInfo si = {
	    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
	    .commandBufferCount = 1,
	    .pCommandBuffers = &cmd,
	};
	return c->submit(q, 1, &si, fence);
}

VkResult nvk_wait(const nvk_cmds *c, VkDevice dev, VkFence fence, uint64_t timeout_ns) {
	VkResult r = c->wait(dev, 1, &fence, VK_TRUE, timeout_ns);
	if (r != VK_SUCCESS) return r;
	return c->reset(dev, 1, &fence);
}

void nvk_cmd_dispatch(const nvk_cmds *c, VkCommandBuffer cmd, VkPipeline pipe, int bind_pipe,
                      VkPipelineLayout layout, VkDescriptorSet set, const void *push,
                      uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
	if (bind_pipe) c->bind_pipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
	c->bind_sets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
	if (push_size) c->push_constants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
	c->dispatch(cmd, gx, gy, gz);
}

void nvk_cmd_barrier(const nvk_cmds *c, VkCommandBuffer cmd, uint32_t to_host) {
	VkMemoryBarrier mb = {
	    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
	    // Reads need only the execution dependency (write-after-read);
	    // writes must also be made available.
	    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	    .dstAccessMask = to_host ? VK_ACCESS_HOST_READ_BIT
	                             : VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
	                                   VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	};
	VkPipelineStageFlags src = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
	VkPipelineStageFlags dst = to_host ? VK_PIPELINE_STAGE_HOST_BIT : src;
	c->barrier(cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}
