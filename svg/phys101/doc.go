// Package phys101 loads the 20-degree ramp clips of Physics 101 (Wu et
// al. 2016), the real-world data of the paper's Figure 4, for users who
// have the dataset: nothing here downloads it.
//
//	d, err := phys101.New(phys101.DefaultConfig("/data/phys101")) // 311 training, 78 test clips of 22 frames, 128x128
//	b, err := d.Batch(clips.Test, []int{0, 1})                    // Frames [22, 2, 3, 128, 128] in [0, 1]
//	fmt.Printf("%+v\n", d.Stats())                                  // clips found, decoded, cached, skipped
//
// *Dataset is a clips.Source, like the built-in ramp scenes (svg/ramp).
//
// # Layout and decoding
//
// Config.Root is the folder the dataset was extracted into: it holds
// phys101/scenarios/ramp/<object>/20_01|20_02/<trial>/Kinect_RGB_1.mp4
// (1920x1080); scenarios/ramp, ramp or the ramp folder itself are found
// too. Other angles (10_01, ...) are left out. Each clip is decoded by
// ffmpeg (ffprobe for its size, then every frame as 8-bit RGB, none
// dropped or repeated), which `make deps` installs; without it the error
// says what to install. ffmpeg uses the same libavcodec and libswscale
// that the reference's torchvision.io.read_video (PyAV) wraps; their
// colour conversion defaults may differ in the last bit.
//
// # Preprocessing: the reference's
//
// Per clip, as the reference's data/phys101.py with the paper's settings:
// every 2nd frame (vid[::2], from the first); the middle 22 of those, from
// (n - 22) // 2; torchvision's CenterCrop(1080), at left offset
// int(round((1920 - 1080) / 2)) = 420 and top 0; Resize((128, 128)), which
// for a uint8 tensor is bilinear interpolation without antialiasing and
// align_corners=False computed in float32 (source x = max((i + 0.5) *
// 1080/128 - 0.5, 0)), rounded half to even back to uint8; one horizontal
// flip per clip with probability 1/2; division by 255. Clips shorter than
// 22 frames after subsampling are skipped and counted (Stats.Short,
// ShortClips), as the reference skips them. Config.Crop 0 crops the
// shorter side (for other frame sizes, as the tests' small clips).
//
// Differences from the reference, all deliberate:
//
//   - Loading by index. The reference's __getitem__ ignores the index it
//     is asked for and returns the next clip of a counter kept per data
//     loader worker, so with 6 workers an epoch sees about 52 distinct
//     training clips, some several times, and evaluation scores the first
//     test clips more than once. Batch returns exactly the clips asked
//     for, so an epoch can visit every clip once and evaluation each test
//     clip once.
//   - The flip is drawn once per clip, from a stream keyed by Config.Seed
//     and the clip's path, and kept: the reference draws it anew each time
//     a clip is loaded (test clips included). The test split is thus
//     fixed, and evaluation repeatable.
//
// # Order and split
//
// The reference splits a fixed, pre-shuffled list of the 893 20-degree
// clips (shuffled once with random.Random(1612)): it keeps the clips with
// at least 22 frames after subsampling (390), cuts to 389, and takes the
// first 311 for training and the last 78 for testing. That list is the
// ramp_20_seq_lengths constant of the reference's data/phys101.py; it is
// not copied here. Config.OrderFile takes it: any text file in which clip
// paths (<object>/20_0x/<trial>/Kinect_RGB_1.mp4, with any prefix) appear
// in order, so the reference's data/phys101.py serves as it is and gives
// the reference's split exactly (every clip it lists must be in the
// tree). Without an order file the order is ours: the clips' paths sorted,
// then shuffled by Fisher-Yates with clips.RNG seeded by 1612 (OrderSeed)
// — deterministic, but not the reference's shuffle, so the split differs
// from the paper's. Either way the clips are taken in order, the short
// ones skipped, until TrainClips + TestClips usable clips are found: the
// first TrainClips train, the next TestClips test (311 and 78 by
// default). With both 0 every usable clip is used, split in the
// reference's proportion: round(78 n / 389) test clips (at least 1).
//
// # Cache
//
// Each decoded clip goes to Config.CacheDir (DefaultCacheDir:
// ~/.cache/noether-vk/phys101) as a safetensors file (graph/safetensors,
// written atomically with its SHA-256): its 22 preprocessed frames
// [22, 3, 128, 128] as float32 k/255, before the flip, or for a short
// clip only its length. The file's metadata holds the source file's size
// and modification time and every preprocessing setting; a file that
// differs in any of them, or fails its checksum, is decoded again. A
// second run finds every clip in the cache and needs no ffmpeg (a test
// runs it with ffmpeg removed from PATH). At 128 pixels a clip takes 4.3
// MB of cache (1.7 GB for the 389), and 1 MB of memory as 8-bit values
// (420 MB).
//
// Decoding a 46-frame 1920x1080 H.264 clip (ffmpeg's test pattern) took
// 4 to 9 s on 2 shared cores with a load average of 21 (uptime). The
// usable clips are spread over the whole list, so the first run reads
// nearly all 893 clips and takes a while; the next ones read the cache.
package phys101
