// Package lime explains a classification of one image with LIME (Ribeiro,
// Singh, Guestrin: "Why Should I Trust You?": Explaining the Predictions
// of Any Classifier, KDD 2016), following the lime package's image
// explainer (lime_image.LimeImageExplainer and lime_base.LimeBase) so that
// its options mean the same here:
//
//  1. The image is cut into superpixels. lime uses skimage's quickshift by
//     default; this package uses SLIC (Achanta et al., TPAMI 2012), which
//     is simpler, deterministic and linear in the pixels.
//  2. Samples: random binary masks over the superpixels, the first all
//     ones (the image itself). A superpixel switched off is replaced by
//     its mean colour (hide_color=None), black (hide_color=0) or grey.
//  3. Every sample is classified; each one's distance to the image is the
//     cosine distance of its mask to the all-ones mask, weighted by the
//     kernel sqrt(exp(−d²/width²)), width 0.25.
//  4. Per explained class, a weighted Ridge(alpha=1) regression of the
//     class score on the masks, after the features are chosen as lime
//     does ("auto": forward selection for at most 6 features, else the
//     highest weights of a Ridge(alpha=0.01)). Its coefficients are the
//     superpixels' weights; its intercept, weighted R² and prediction for
//     the image come along.
//  5. Mask and Overlay show the top superpixels as get_image_and_mask
//     does (positive_only, negative_only, num_features, min_weight,
//     hide_rest).
//
// # Resolution
//
// Superpixels are made and switched off at the model's input resolution,
// on the image as the classifier fits and resizes it (package
// preprocess). That is exactly what the model sees: no resampling blends a
// hidden superpixel into its neighbours, the cost does not grow with the
// camera's resolution, and the sample is passed through the same
// infer.Classifier as the agent's frames (its resize is then the
// identity), so the scores are the ones the agent reports. Overlay maps
// the superpixels back onto the original image, at the original
// resolution, for display. A 20×20 model therefore has coarse superpixels
// (25 by default): that is all the detail it has.
//
// # Cost and determinism
//
// Samples are classified in batches, one batch at a time on each
// classifier given (one per core, each engine with one thread); each
// worker reuses its sample images and results, so the loop allocates
// nothing per sample. The masks come from a PCG generator seeded by
// Options.Seed, each sample's scores depend only on its own image (the
// native engine computes an image the same in any batch), and the
// regression runs in a fixed order: the same seed gives the same
// explanation, bit for bit, whatever the number of workers.
package lime
