/* Declarations for TensorFlow Lite's external delegate library
 * (libexternal_delegate_obj.so, TFLite 2.9), written for fruitcam.
 *
 * The header shipped with the library is C++ only (an array bound taken from
 * a `const int` and a struct that names its own typedef inside itself), so
 * cgo cannot compile it. This one declares the same ABI in plain C: the
 * options struct layout and the three functions the library exports. The
 * library does NOT export TfLiteExternalDelegateOptionsInsert; use the
 * `insert` member that TfLiteExternalDelegateOptionsDefault fills in.
 *
 * fruitcam loads the library with dlopen, so these are used for the types;
 * the TFLITE_EXTERNAL_DELEGATE_*_FN typedefs describe the symbols.
 */
#ifndef TENSORFLOW_LITE_DELEGATES_EXTERNAL_EXTERNAL_DELEGATE_H_
#define TENSORFLOW_LITE_DELEGATES_EXTERNAL_EXTERNAL_DELEGATE_H_

#include "tensorflow/lite/c/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Capacity of the key/value arrays (kMaxOptions in the C++ header). */
#define TFLITE_EXTERNAL_DELEGATE_MAX_OPTIONS 256

typedef struct TfLiteExternalDelegateOptions TfLiteExternalDelegateOptions;

/* Key/value options for one external delegate. lib_path is the plugin
 * library, which must export tflite_plugin_create_delegate and
 * tflite_plugin_destroy_delegate. */
struct TfLiteExternalDelegateOptions {
  const char* lib_path;
  int count;
  const char* keys[TFLITE_EXTERNAL_DELEGATE_MAX_OPTIONS];
  const char* values[TFLITE_EXTERNAL_DELEGATE_MAX_OPTIONS];
  TfLiteStatus (*insert)(TfLiteExternalDelegateOptions* options,
                         const char* key, const char* value);
};

/* Options with lib_path set, no keys, and insert pointing at the library's
 * own insert function. lib_path must not be NULL. */
TfLiteExternalDelegateOptions TfLiteExternalDelegateOptionsDefault(
    const char* lib_path);

/* Loads options->lib_path and creates the plugin's delegate. In 2.9 the
 * result is never NULL, even when loading or the plugin fails: the caller
 * must check the plugin before calling it (see infer/delegate). */
TfLiteDelegate* TfLiteExternalDelegateCreate(
    const TfLiteExternalDelegateOptions* options);

/* Destroys a delegate from TfLiteExternalDelegateCreate (and through it the
 * plugin's delegate), after every interpreter using it has been deleted. */
void TfLiteExternalDelegateDelete(TfLiteDelegate* delegate);

typedef TfLiteExternalDelegateOptions (*TFLITE_EXTERNAL_DELEGATE_OPTIONS_DEFAULT_FN)(const char*);
typedef TfLiteDelegate* (*TFLITE_EXTERNAL_DELEGATE_CREATE_FN)(const TfLiteExternalDelegateOptions*);
typedef void (*TFLITE_EXTERNAL_DELEGATE_DELETE_FN)(TfLiteDelegate*);

#ifdef __cplusplus
}
#endif

#endif /* TENSORFLOW_LITE_DELEGATES_EXTERNAL_EXTERNAL_DELEGATE_H_ */
