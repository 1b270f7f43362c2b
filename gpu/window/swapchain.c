#include "swapchain.h"

#include <stdio.h>
#include <string.h>

#define INST_FN(name) gipa(inst, #name)

VkResult nwin_init(nwin *w, PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, VkDevice dev,
                   VkSurfaceKHR surface, uint32_t family) {
	memset(w, 0, sizeof(*w));
	w->pd = pd;
	w->dev = dev;
	w->surface = surface;
	PFN_vkGetDeviceProcAddr gdpa = (PFN_vkGetDeviceProcAddr)INST_FN(vkGetDeviceProcAddr);
	if (gdpa == NULL) return VK_ERROR_INITIALIZATION_FAILED;
	nwin_fns *f = &w->f;
	f->caps = (PFN_vkGetPhysicalDeviceSurfaceCapabilitiesKHR)INST_FN(vkGetPhysicalDeviceSurfaceCapabilitiesKHR);
	f->formats = (PFN_vkGetPhysicalDeviceSurfaceFormatsKHR)INST_FN(vkGetPhysicalDeviceSurfaceFormatsKHR);
	f->modes = (PFN_vkGetPhysicalDeviceSurfacePresentModesKHR)INST_FN(vkGetPhysicalDeviceSurfacePresentModesKHR);
#define DEV_FN(field, type, name) f->field = (type)gdpa(dev, name)
	DEV_FN(create_swapchain, PFN_vkCreateSwapchainKHR, "vkCreateSwapchainKHR");
	DEV_FN(destroy_swapchain, PFN_vkDestroySwapchainKHR, "vkDestroySwapchainKHR");
	DEV_FN(images, PFN_vkGetSwapchainImagesKHR, "vkGetSwapchainImagesKHR");
	DEV_FN(acquire, PFN_vkAcquireNextImageKHR, "vkAcquireNextImageKHR");
	DEV_FN(present, PFN_vkQueuePresentKHR, "vkQueuePresentKHR");
	DEV_FN(submit, PFN_vkQueueSubmit, "vkQueueSubmit");
	DEV_FN(queue_wait_idle, PFN_vkQueueWaitIdle, "vkQueueWaitIdle");
	DEV_FN(create_semaphore, PFN_vkCreateSemaphore, "vkCreateSemaphore");
	DEV_FN(destroy_semaphore, PFN_vkDestroySemaphore, "vkDestroySemaphore");
	DEV_FN(create_fence, PFN_vkCreateFence, "vkCreateFence");
	DEV_FN(destroy_fence, PFN_vkDestroyFence, "vkDestroyFence");
	DEV_FN(wait_fences, PFN_vkWaitForFences, "vkWaitForFences");
	DEV_FN(reset_fences, PFN_vkResetFences, "vkResetFences");
	DEV_FN(create_pool, PFN_vkCreateCommandPool, "vkCreateCommandPool");
	DEV_FN(destroy_pool, PFN_vkDestroyCommandPool, "vkDestroyCommandPool");
	DEV_FN(alloc_cmd, PFN_vkAllocateCommandBuffers, "vkAllocateCommandBuffers");
	DEV_FN(begin, PFN_vkBeginCommandBuffer, "vkBeginCommandBuffer");
	DEV_FN(end, PFN_vkEndCommandBuffer, "vkEndCommandBuffer");
	DEV_FN(barrier, PFN_vkCmdPipelineBarrier, "vkCmdPipelineBarrier");
	DEV_FN(copy, PFN_vkCmdCopyBufferToImage, "vkCmdCopyBufferToImage");
#undef DEV_FN
	void **fns = (void **)f;
	for (size_t i = 0; i < sizeof(*f) / sizeof(void *); i++)
		if (fns[i] == NULL) return VK_ERROR_EXTENSION_NOT_PRESENT;

	VkCommandPoolCreateInfo pci = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
	    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
	    .queueFamilyIndex = family,
	};
	VkResult r = f->create_pool(dev, &pci, NULL, &w->pool);
	if (r != VK_SUCCESS) return r;
	VkCommandBufferAllocateInfo ai = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
	    .commandPool = w->pool,
	    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
	    .commandBufferCount = 1,
	};
	if ((r = f->alloc_cmd(dev, &ai, &w->cmd)) != VK_SUCCESS) return r;
	VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	if ((r = f->create_fence(dev, &fci, NULL, &w->fence)) != VK_SUCCESS) return r;
	VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
	return f->create_semaphore(dev, &sci, NULL, &w->acquired);
}

static void destroy_images(nwin *w) {
	for (uint32_t i = 0; i < w->nimages; i++) {
		if (w->presented[i] != VK_NULL_HANDLE) w->f.destroy_semaphore(w->dev, w->presented[i], NULL);
		w->presented[i] = VK_NULL_HANDLE;
	}
	w->nimages = 0;
}

VkResult nwin_create_swapchain(nwin *w, uint32_t width, uint32_t height, char *why, int whylen) {
	nwin_fns *f = &w->f;
	why[0] = 0;
	VkSurfaceCapabilitiesKHR caps;
	VkResult r = f->caps(w->pd, w->surface, &caps);
	if (r != VK_SUCCESS) {
		snprintf(why, whylen, "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
		return r;
	}
	VkExtent2D ext = caps.currentExtent;
	if (ext.width == 0xFFFFFFFFu) {
		// The surface takes its size from the swapchain.
		ext.width = width < caps.minImageExtent.width ? caps.minImageExtent.width : width;
		ext.height = height < caps.minImageExtent.height ? caps.minImageExtent.height : height;
		if (ext.width > caps.maxImageExtent.width) ext.width = caps.maxImageExtent.width;
		if (ext.height > caps.maxImageExtent.height) ext.height = caps.maxImageExtent.height;
	}
	if (ext.width == 0 || ext.height == 0) {
		// Minimised: keep the old swapchain until the window comes back.
		w->extent = ext;
		return VK_SUCCESS;
	}
	if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT)) {
		snprintf(why, whylen, "the surface's images cannot be transfer destinations");
		return VK_ERROR_FEATURE_NOT_PRESENT;
	}
	VkSurfaceFormatKHR formats[64];
	uint32_t nf = 64;
	r = f->formats(w->pd, w->surface, &nf, formats);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
		snprintf(why, whylen, "vkGetPhysicalDeviceSurfaceFormatsKHR");
		return r;
	}
	int found = -1;
	for (uint32_t i = 0; i < nf; i++)
		if (formats[i].format == VK_FORMAT_B8G8R8A8_UNORM) found = (int)i;
	if (found < 0) {
		int n = snprintf(why, whylen, "the surface offers no B8G8R8A8_UNORM format (formats:");
		for (uint32_t i = 0; i < nf && n < whylen; i++) n += snprintf(why + n, whylen - n, " %d", formats[i].format);
		if (n < whylen) snprintf(why + n, whylen - n, ")");
		return VK_ERROR_FORMAT_NOT_SUPPORTED;
	}
	VkPresentModeKHR modes[16];
	uint32_t nm = 16;
	r = f->modes(w->pd, w->surface, &nm, modes);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
		snprintf(why, whylen, "vkGetPhysicalDeviceSurfacePresentModesKHR");
		return r;
	}
	// FIFO is always there; MAILBOX never blocks the frame loop on the
	// display's refresh and never tears.
	w->mode = VK_PRESENT_MODE_FIFO_KHR;
	for (uint32_t i = 0; i < nm; i++)
		if (modes[i] == VK_PRESENT_MODE_MAILBOX_KHR) w->mode = VK_PRESENT_MODE_MAILBOX_KHR;
	VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
	if (!(caps.supportedCompositeAlpha & alpha)) {
		// 0 is invalid: take the first bit the surface supports.
		alpha = (VkCompositeAlphaFlagBitsKHR)(caps.supportedCompositeAlpha & -caps.supportedCompositeAlpha);
	}
	uint32_t count = caps.minImageCount;
	if (count > NWIN_MAX_IMAGES) count = NWIN_MAX_IMAGES;
	VkSwapchainKHR old = w->swapchain;
	VkSwapchainCreateInfoKHR ci = {
	    .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
	    .surface = w->surface,
	    .minImageCount = count,
	    .imageFormat = VK_FORMAT_B8G8R8A8_UNORM,
	    .imageColorSpace = formats[found].colorSpace,
	    .imageExtent = ext,
	    .imageArrayLayers = 1,
	    .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT,
	    .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
	    .preTransform = caps.currentTransform,
	    .compositeAlpha = alpha,
	    .presentMode = w->mode,
	    .clipped = VK_TRUE,
	    .oldSwapchain = old,
	};
	VkSwapchainKHR sc;
	r = f->create_swapchain(w->dev, &ci, NULL, &sc);
	if (old != VK_NULL_HANDLE) f->destroy_swapchain(w->dev, old, NULL);
	destroy_images(w);
	w->swapchain = VK_NULL_HANDLE;
	if (r != VK_SUCCESS) {
		snprintf(why, whylen, "vkCreateSwapchainKHR");
		return r;
	}
	w->swapchain = sc;
	uint32_t n = 0;
	f->images(w->dev, sc, &n, NULL);
	if (n > NWIN_MAX_IMAGES) {
		snprintf(why, whylen, "the swapchain has %u images (at most %d)", n, NWIN_MAX_IMAGES);
		return VK_ERROR_TOO_MANY_OBJECTS;
	}
	if ((r = f->images(w->dev, sc, &n, w->images)) != VK_SUCCESS) {
		snprintf(why, whylen, "vkGetSwapchainImagesKHR");
		return r;
	}
	VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
	for (uint32_t i = 0; i < n; i++) {
		w->nimages = i + 1;
		if ((r = f->create_semaphore(w->dev, &sci, NULL, &w->presented[i])) != VK_SUCCESS) {
			snprintf(why, whylen, "vkCreateSemaphore");
			return r;
		}
	}
	w->extent = ext;
	return VK_SUCCESS;
}

VkResult nwin_acquire(nwin *w, uint32_t *index) {
	return w->f.acquire(w->dev, w->swapchain, UINT64_MAX, w->acquired, VK_NULL_HANDLE, index);
}

VkResult nwin_record(nwin *w, uint32_t index, VkBuffer buffer, VkDeviceSize offset) {
	nwin_fns *f = &w->f;
	VkCommandBufferBeginInfo bi = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
	    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkResult r = f->begin(w->cmd, &bi);
	if (r != VK_SUCCESS) return r;
	VkImageSubresourceRange range = {.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT, .levelCount = 1, .layerCount = 1};
	// The buffer was written by a compute shader in an earlier submission.
	VkBufferMemoryBarrier composed = {
	    .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
	    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
	    .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
	    .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
	    .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
	    .buffer = buffer,
	    .offset = offset,
	    .size = (VkDeviceSize)w->extent.width * w->extent.height * 4,
	};
	// The old contents are discarded: every pixel is overwritten.
	VkImageMemoryBarrier to_dst = {
	    .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
	    .srcAccessMask = 0,
	    .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
	    .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	    .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
	    .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
	    .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
	    .image = w->images[index],
	    .subresourceRange = range,
	};
	// The source stage includes TRANSFER, the stage the acquire semaphore
	// is waited at, so the layout change follows the acquisition.
	f->barrier(w->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
	           VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 1, &composed, 1, &to_dst);
	VkBufferImageCopy region = {
	    .bufferOffset = offset,
	    .imageSubresource = {.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT, .layerCount = 1},
	    .imageExtent = {w->extent.width, w->extent.height, 1},
	};
	f->copy(w->cmd, buffer, w->images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
	VkImageMemoryBarrier to_present = to_dst;
	to_present.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
	to_present.dstAccessMask = 0;
	to_present.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
	to_present.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
	f->barrier(w->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL, 1,
	           &to_present);
	return f->end(w->cmd);
}

VkResult nwin_submit_present(nwin *w, VkQueue q, uint32_t index) {
	VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
	VkSubmitInfo si = {
	    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
	    .waitSemaphoreCount = 1,
	    .pWaitSemaphores = &w->acquired,
	    .pWaitDstStageMask = &stage,
	    .commandBufferCount = 1,
	    .pCommandBuffers = &w->cmd,
	    .signalSemaphoreCount = 1,
	    .pSignalSemaphores = &w->presented[index],
	};
	VkResult r = w->f.submit(q, 1, &si, w->fence);
	if (r != VK_SUCCESS) return r;
	w->pending = 1;
	VkPresentInfoKHR pi = {
	    .sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
	    .waitSemaphoreCount = 1,
	    .pWaitSemaphores = &w->presented[index],
	    .swapchainCount = 1,
	    .pSwapchains = &w->swapchain,
	    .pImageIndices = &index,
	};
	return w->f.present(q, &pi);
}

VkResult nwin_wait(nwin *w) {
	if (!w->pending) return VK_SUCCESS;
	VkResult r = w->f.wait_fences(w->dev, 1, &w->fence, VK_TRUE, UINT64_MAX);
	if (r != VK_SUCCESS) return r;
	w->pending = 0;
	return w->f.reset_fences(w->dev, 1, &w->fence);
}

VkResult nwin_queue_wait_idle(nwin *w, VkQueue q) {
	if (w->f.queue_wait_idle == NULL) return VK_SUCCESS;
	return w->f.queue_wait_idle(q);
}

void nwin_destroy_swapchain(nwin *w) {
	destroy_images(w);
	if (w->swapchain != VK_NULL_HANDLE) w->f.destroy_swapchain(w->dev, w->swapchain, NULL);
	w->swapchain = VK_NULL_HANDLE;
}

void nwin_destroy(nwin *w) {
	if (w->f.destroy_pool == NULL) {
		// nwin_init stopped before it created anything.
		memset(w, 0, sizeof(*w));
		return;
	}
	nwin_destroy_swapchain(w);
	if (w->acquired != VK_NULL_HANDLE) w->f.destroy_semaphore(w->dev, w->acquired, NULL);
	if (w->fence != VK_NULL_HANDLE) w->f.destroy_fence(w->dev, w->fence, NULL);
	if (w->pool != VK_NULL_HANDLE) w->f.destroy_pool(w->dev, w->pool, NULL);
	memset(w, 0, sizeof(*w));
}
