/* countplugin: a TensorFlow Lite external delegate plugin for the tests of
 * infer/delegate. It implements the plugin protocol libedgetpu implements
 * (tflite_plugin_create_delegate / tflite_plugin_destroy_delegate), claims
 * no nodes, and counts what TFLite and the external delegate library do
 * with it in exported globals the test reads with dlsym.
 *
 * Options it understands:
 *   record=<value>  copied into countplugin_record (proves the options
 *                   reached the plugin)
 *   fail=<anything> create returns NULL, as libedgetpu does without a TPU
 *
 * Build: gcc -shared -fPIC -I<tflite include dir> -o countplugin.so countplugin.c
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/lite/c/common.h"

int countplugin_created;
int countplugin_prepared;
int countplugin_destroyed;
int countplugin_options; /* number of options the last create received */
char countplugin_record[256];

/* Prepare is where a delegate would call
 * context->ReplaceNodeSubsetsWithDelegateKernels for the nodes it runs;
 * claiming none leaves the whole graph to the CPU kernels. */
static TfLiteStatus countplugin_prepare(TfLiteContext* context,
                                        TfLiteDelegate* delegate) {
  (void)context;
  (void)delegate;
  countplugin_prepared++;
  return kTfLiteOk;
}

TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values,
                                              size_t n,
                                              void (*report_error)(const char*)) {
  size_t i;
  TfLiteDelegate* d;

  countplugin_options = (int)n;
  for (i = 0; i < n; i++) {
    if (strcmp(keys[i], "fail") == 0) {
      if (report_error != NULL) {
        report_error("countplugin: asked to fail");
      }
      return NULL;
    }
    if (strcmp(keys[i], "record") == 0) {
      strncpy(countplugin_record, values[i], sizeof countplugin_record - 1);
      countplugin_record[sizeof countplugin_record - 1] = '\0';
    }
  }
  d = calloc(1, sizeof *d);
  if (d == NULL) {
    return NULL;
  }
  d->Prepare = countplugin_prepare;
  d->flags = kTfLiteDelegateFlagsNone;
  countplugin_created++;
  return d;
}

void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  if (delegate == NULL) {
    return;
  }
  countplugin_destroyed++;
  free(delegate);
}
