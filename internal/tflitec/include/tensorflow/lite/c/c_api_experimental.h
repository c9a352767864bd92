/*
 * fruitcam: the declarations github.com/mattn/go-tflite v1.0.5 needs from
 * TensorFlow Lite's experimental C API, for building against a
 * libtensorflowlite_c distribution that ships c_api.h and common.h but not
 * this header (the npm package tfjs-tflite-node 0.0.2, TFLite 2.9.0).
 *
 * Only the four functions go-tflite calls are declared; the 2.9 library
 * exports all four. See internal/tflitec/doc.go.
 *
 * Written for fruitcam, not copied from TensorFlow.
 */
#ifndef FRUITCAM_TFLITEC_C_API_EXPERIMENTAL_H_
#define FRUITCAM_TFLITEC_C_API_EXPERIMENTAL_H_

#include <stdbool.h>
#include <stdint.h>

#include "tensorflow/lite/c/c_api.h"
#include "tensorflow/lite/c/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The builtin operator code of a registration (BuiltinOperator in the
 * model schema). TensorFlow declares it as an enum listing every operator;
 * go-tflite only converts its own integer codes to it, and a C enum is
 * passed as an int on every ABI we build for, so an integer type is enough.
 */
typedef int TfLiteBuiltinOperator;

/*
 * Registers a kernel for a builtin operator, for operator versions
 * min_version..max_version, on interpreters created with options. The
 * registration must outlive those interpreters.
 * The version bounds are int: go-tflite passes C.int (same size as the
 * library's int32_t on every supported ABI).
 */
void TfLiteInterpreterOptionsAddBuiltinOp(TfLiteInterpreterOptions* options,
                                          TfLiteBuiltinOperator op,
                                          const TfLiteRegistration* registration,
                                          int min_version, int max_version);

/* Like TfLiteInterpreterOptionsAddBuiltinOp, for a custom operator name. */
void TfLiteInterpreterOptionsAddCustomOp(TfLiteInterpreterOptions* options,
                                         const char* name,
                                         const TfLiteRegistration* registration,
                                         int min_version, int max_version);

/* Asks for Android's NNAPI delegate (ignored where there is none). */
void TfLiteInterpreterOptionsSetUseNNAPI(TfLiteInterpreterOptions* options,
                                         bool enable);

/* Sets every variable tensor of the interpreter back to its initial value. */
TfLiteStatus TfLiteInterpreterResetVariableTensors(TfLiteInterpreter* interpreter);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FRUITCAM_TFLITEC_C_API_EXPERIMENTAL_H_ */
