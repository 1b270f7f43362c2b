// swapchain: the Vulkan side of presenting a composed frame (a BGRA8
// buffer at the swapchain's extent) to a window surface, in C against the
// system header: vulkan-go marshals every struct per call and leaks small
// C allocations doing so, which a frame loop must not.
//
// A frame is: acquire an image (signalling a semaphore), record a copy of
// the buffer into it between two layout barriers (UNDEFINED ->
// TRANSFER_DST -> PRESENT_SRC), submit waiting for the semaphore at the
// transfer stage, present, wait for the submission's fence.
#ifndef NOETHER_SWAPCHAIN_H
#define NOETHER_SWAPCHAIN_H

#include <stdint.h>
#include <vulkan/vulkan.h>

#define NWIN_MAX_IMAGES 8

typedef struct {
	PFN_vkGetPhysicalDeviceSurfaceCapabilitiesKHR caps;
	PFN_vkGetPhysicalDeviceSurfaceFormatsKHR formats;
	PFN_vkGetPhysicalDeviceSurfacePresentModesKHR modes;
	PFN_vkCreateSwapchainKHR create_swapchain;
	PFN_vkDestroySwapchainKHR destroy_swapchain;
	PFN_vkGetSwapchainImagesKHR images;
	PFN_vkAcquireNextImageKHR acquire;
	PFN_vkQueuePresentKHR present;
	PFN_vkQueueSubmit submit;
	PFN_vkQueueWaitIdle queue_wait_idle;
	PFN_vkCreateSemaphore create_semaphore;
	PFN_vkDestroySemaphore destroy_semaphore;
	PFN_vkCreateFence create_fence;
	PFN_vkDestroyFence destroy_fence;
	PFN_vkWaitForFences wait_fences;
	PFN_vkResetFences reset_fences;
	PFN_vkCreateCommandPool create_pool;
	PFN_vkDestroyCommandPool destroy_pool;
	PFN_vkAllocateCommandBuffers alloc_cmd;
	PFN_vkBeginCommandBuffer begin;
	PFN_vkEndCommandBuffer end;
	PFN_vkCmdPipelineBarrier barrier;
	PFN_vkCmdCopyBufferToImage copy;
} nwin_fns;

typedef struct {
	nwin_fns f;
	VkPhysicalDevice pd;
	VkDevice dev;
	VkSurfaceKHR surface;
	VkSwapchainKHR swapchain;
	VkFormat format;
	VkPresentModeKHR mode;
	VkExtent2D extent;
	uint32_t nimages;
	VkImage images[NWIN_MAX_IMAGES];
	// presented[i] is signalled by the copy into image i and waited by
	// its presentation; one per image, so that a semaphore is reused only
	// once its image has come back from the presentation engine.
	VkSemaphore presented[NWIN_MAX_IMAGES];
	VkSemaphore acquired;
	VkFence fence;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	uint32_t pending; // a submission's fence is still to be waited for
} nwin;

// nwin_init resolves the functions and creates the frame's command buffer,
// fence and acquire semaphore on family's pool.
VkResult nwin_init(nwin *w, PFN_vkGetInstanceProcAddr gipa, VkInstance inst, VkPhysicalDevice pd, VkDevice dev,
                   VkSurfaceKHR surface, uint32_t family);

// nwin_create_swapchain (re)creates the swapchain at the surface's current
// extent (width x height when the surface leaves it to the application):
// B8G8R8A8_UNORM, opaque, images usable as transfer destinations, MAILBOX
// when offered, else FIFO. It sets w->extent to 0x0 and creates nothing
// while the window is minimised. On failure why holds the reason.
VkResult nwin_create_swapchain(nwin *w, uint32_t width, uint32_t height, char *why, int whylen);

// nwin_acquire acquires the next image (its index in *index).
VkResult nwin_acquire(nwin *w, uint32_t *index);

// nwin_record records the copy of the BGRA8 buffer (at offset, the
// swapchain's extent, tightly packed) into image index.
VkResult nwin_record(nwin *w, uint32_t index, VkBuffer buffer, VkDeviceSize offset);

// nwin_submit_present submits the recorded copy and presents image index
// on q. The caller holds q's lock.
VkResult nwin_submit_present(nwin *w, VkQueue q, uint32_t index);

// nwin_wait waits for the last submission to finish and resets its fence.
VkResult nwin_wait(nwin *w);

// nwin_queue_wait_idle waits until q is idle (nothing to wait for when
// nwin_init failed). The caller holds q's lock.
VkResult nwin_queue_wait_idle(nwin *w, VkQueue q);

// nwin_destroy_swapchain destroys the swapchain and its semaphores; the
// queue must be idle.
void nwin_destroy_swapchain(nwin *w);

// nwin_destroy destroys everything nwin_init and the swapchain made; the
// queue must be idle.
void nwin_destroy(nwin *w);

#endif
