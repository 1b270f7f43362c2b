// Package search is the formula search of the paper's section 5.1, behind
// `noether-vk formulas fit|search|merge`: enumerate every units-valid
// formula up to a size, fit them all at once on the GPU (FitStage), keep
// those that pass the conservation filter, tailor the baseline with each
// at a grid of inner rates, meta-tailor the best (Search), and choose by
// long-term training RMSE. Work splits into shards (Config.Shard) whose
// reports MergeFits and MergeSearches join. Compare says whether a found
// formula is a member of a system's energy family.
package search
