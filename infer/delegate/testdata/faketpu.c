/* faketpu: a stand-in for the Coral Edge TPU runtime (libedgetpu.so.1), so
 * that the whole Edge TPU path (the external delegate, delegated execution, a
 * TPU that fails or stalls) can be tested without the hardware.
 *
 * It implements what fruitcam uses of libedgetpu:
 *   - TFLite's external delegate plugin protocol, as libedgetpu's
 *     edgetpu_delegate_for_custom_op_tflite_plugin.cc does:
 *     tflite_plugin_create_delegate(keys, values, n, report_error) and
 *     tflite_plugin_destroy_delegate. The "device" option selects a device
 *     exactly as libedgetpu does: absent or "" any, "usb"/"pci" any of that
 *     kind, ":N" the N-th of any kind, "usb:N"/"pci:N" the N-th of that kind,
 *     anything else none. Other options (Performance, Usb.AlwaysDfu, ...)
 *     are accepted and ignored. With no matching device create returns NULL,
 *     after calling report_error (stderr when it is NULL).
 *   - part of the C API of edgetpu_c.h: edgetpu_version, edgetpu_list_devices,
 *     edgetpu_free_devices.
 * Its delegate claims every node whose registration is the custom op
 * "edgetpu-custom-op", one kernel per node (named EdgeTpuDelegateForCustomOp,
 * as libedgetpu's), and executes it faithfully by running the CPU model the
 * Edge TPU model was compiled from (the "twin") with TFLite's C API, in an
 * interpreter of its own. That works when the custom op is the whole graph,
 * as edgetpu_compiler makes it for a model it maps entirely (the coral
 * mobilenet_v1_0.25_128_quant_edgetpu.tflite and go-tflite
 * fizzbuzz_model_quant_edgetpu.tflite: one custom op from the model's input
 * to its output), or when the twin computes exactly the custom op's part.
 * The op's custom_options (the compiled Edge TPU executable) are not read.
 * What it cannot emulate it refuses in Prepare, with a message naming the
 * mismatch: a twin whose inputs or outputs differ from the custom op's in
 * count, type, quantisation or shape (the float fizzbuzz_model.tflite is not
 * the uint8 model fizzbuzz_model_quant_edgetpu.tflite was compiled from), a
 * model with more than one edgetpu-custom-op (a graph the compiler split),
 * or a twin that is itself an Edge TPU model. Like libedgetpu it batches:
 * when the twin's inputs have batch 1 and the interpreter's inputs are
 * resized along dimension 0, the twin is resized too and so are the outputs.
 *
 * Environment, read by the plugin:
 *   FAKETPU_MODEL           path of the CPU twin .tflite, read when a kernel
 *                           is created (the interpreter is made).
 *   FAKETPU_DEVICES         the devices it pretends to have, in enumeration
 *                           order, comma-separated: "usb", "pci", or with an
 *                           index "usb:N"/"pci:N" that only names the device
 *                           path (/sys/bus/usb/devices/faketpu-N, /dev/apex_N).
 *                           Unset: "usb:0". Empty: none (create fails, as
 *                           libedgetpu does without a TPU).
 *   FAKETPU_CONTROL         a file read at every invoke: missing, empty or
 *                           "ok" runs; "fail" makes the kernel report a USB
 *                           transfer failure like libedgetpu's when a USB
 *                           accelerator is unplugged and return kTfLiteError;
 *                           "stall" blocks the invoke, polling the file every
 *                           5 ms, until it holds something else (a hung USB
 *                           transfer), then acts on that. Replace the file
 *                           atomically (write elsewhere, rename): a reader
 *                           that sees it truncated takes it for "ok".
 *                           Unset: always run.
 *   FAKETPU_RUNTIME_VERSION what edgetpu_version() returns. Unset: the text
 *                           of Coral's libedgetpu 16.0 package.
 *
 * Counters, exported for the tests (read with dlsym; updated atomically):
 *   faketpu_created, faketpu_destroyed  delegates
 *   faketpu_claimed                     edgetpu-custom-op nodes taken
 *   faketpu_invokes                     kernel invokes, failed ones included
 *   faketpu_failures                    invokes failed by FAKETPU_CONTROL
 *   faketpu_stalls                      invokes that stalled
 *   faketpu_stalling                    1 while an invoke is stalled
 *   faketpu_device                      path of the device last opened
 *
 * Build: cc -shared -fPIC -I<tflite include> -o libedgetpu.so.1 faketpu.c
 *        -L<dir of libtensorflowlite_c.so> -ltensorflowlite_c
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensorflow/lite/c/c_api.h"
#include "tensorflow/lite/c/common.h"

#define FAKETPU_CUSTOM_OP "edgetpu-custom-op"
#define FAKETPU_KERNEL_NAME "EdgeTpuDelegateForCustomOp"
/* edgetpu_version() of Coral's libedgetpu1-std 16.0 (pycoral's
 * get_runtime_version() prints it). */
#define FAKETPU_DEFAULT_VERSION                                        \
  "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), " \
  "RuntimeVersion(14)"
#define FAKETPU_MAX_DEVICES 16
#define FAKETPU_POLL_NS 5000000L

int faketpu_created;
int faketpu_destroyed;
int faketpu_claimed;
int faketpu_invokes;
int faketpu_failures;
int faketpu_stalls;
int faketpu_stalling;
char faketpu_device[128];

/* edgetpu_c.h */
enum edgetpu_device_type {
  EDGETPU_APEX_PCI = 0,
  EDGETPU_APEX_USB = 1,
};

struct edgetpu_device {
  enum edgetpu_device_type type;
  const char* path;
};

typedef struct {
  enum edgetpu_device_type type;
  char path[64];
} faketpu_dev;

static void count(int* c, int d) { __atomic_add_fetch(c, d, __ATOMIC_SEQ_CST); }

static void set_flag(int* c, int v) { __atomic_store_n(c, v, __ATOMIC_SEQ_CST); }

/* say reports an error through report_error, or on stderr without one. */
static void say(void (*report_error)(const char*), const char* format, ...) {
  char msg[512];
  va_list args;
  va_start(args, format);
  vsnprintf(msg, sizeof msg, format, args);
  va_end(args);
  if (report_error != NULL) {
    report_error(msg);
  } else {
    fprintf(stderr, "%s\n", msg);
  }
}

/* parse_index reads a whole non-negative decimal number. */
static int parse_index(const char* s, int* out) {
  char* end;
  long v;
  if (*s < '0' || *s > '9') return 0;
  errno = 0;
  v = strtol(s, &end, 10);
  if (*end != '\0' || errno != 0 || v > 1000000) return 0;
  *out = (int)v;
  return 1;
}

/* load_devices fills devs from FAKETPU_DEVICES and returns their number, or
 * -1 with *bad naming the entry it could not read. */
static int load_devices(faketpu_dev* devs, char* bad, size_t badn) {
  const char* env = getenv("FAKETPU_DEVICES");
  char buf[512];
  char* save = NULL;
  char* tok;
  int n = 0, usb = 0, pci = 0;
  if (env == NULL) env = "usb:0";
  snprintf(buf, sizeof buf, "%s", env);
  for (tok = strtok_r(buf, ",", &save); tok != NULL;
       tok = strtok_r(NULL, ",", &save)) {
    char* colon;
    int index = -1;
    while (isspace((unsigned char)*tok)) tok++;
    if (*tok == '\0') continue;
    colon = strchr(tok, ':');
    if (colon != NULL) {
      *colon = '\0';
      if (!parse_index(colon + 1, &index)) {
        *colon = ':';
        snprintf(bad, badn, "%s", tok);
        return -1;
      }
    }
    if (n == FAKETPU_MAX_DEVICES) {
      snprintf(bad, badn, "more than %d devices", FAKETPU_MAX_DEVICES);
      return -1;
    }
    if (strcmp(tok, "usb") == 0) {
      devs[n].type = EDGETPU_APEX_USB;
      snprintf(devs[n].path, sizeof devs[n].path,
               "/sys/bus/usb/devices/faketpu-%d", index >= 0 ? index : usb);
      usb++;
    } else if (strcmp(tok, "pci") == 0) {
      devs[n].type = EDGETPU_APEX_PCI;
      snprintf(devs[n].path, sizeof devs[n].path, "/dev/apex_%d",
               index >= 0 ? index : pci);
      pci++;
    } else {
      if (colon != NULL) *colon = ':';
      snprintf(bad, badn, "%s", tok);
      return -1;
    }
    n++;
  }
  return n;
}

/* select_device picks among devs as libedgetpu's GetEdgeTpuContext does:
 * any = -1 for "any kind". Returns the index, or -1. */
static int select_device(const faketpu_dev* devs, int n, int type, int nth) {
  int i, seen = 0;
  for (i = 0; i < n; i++) {
    if (type >= 0 && (int)devs[i].type != type) continue;
    if (nth < 0 || seen == nth) return i;
    seen++;
  }
  return -1;
}

static int select_by_option(const faketpu_dev* devs, int n,
                            const char* device) {
  int index;
  if (device == NULL || device[0] == '\0') return select_device(devs, n, -1, -1);
  if (strcmp(device, "usb") == 0)
    return select_device(devs, n, EDGETPU_APEX_USB, -1);
  if (strcmp(device, "pci") == 0)
    return select_device(devs, n, EDGETPU_APEX_PCI, -1);
  if (device[0] == ':' && parse_index(device + 1, &index))
    return select_device(devs, n, -1, index);
  if (strncmp(device, "usb:", 4) == 0 && parse_index(device + 4, &index))
    return select_device(devs, n, EDGETPU_APEX_USB, index);
  if (strncmp(device, "pci:", 4) == 0 && parse_index(device + 4, &index))
    return select_device(devs, n, EDGETPU_APEX_PCI, index);
  return -1;
}

/* ---- the kernel that runs one edgetpu-custom-op node on the twin ---- */

typedef struct {
  char model_path[1024];
  int have_model_path;
  TfLiteModel* model;
  TfLiteInterpreterOptions* options;
  TfLiteInterpreter* twin;
  int batchable; /* every twin input had batch 1 when loaded */
  char twin_err[1024];
  size_t twin_err_n;
} faketpu_kernel;

/* twin_report collects the twin interpreter's error messages. */
static void twin_report(void* user, const char* format, va_list args) {
  faketpu_kernel* k = (faketpu_kernel*)user;
  size_t room = sizeof k->twin_err - k->twin_err_n;
  int w;
  if (room < 3) return;
  if (k->twin_err_n > 0) {
    k->twin_err[k->twin_err_n++] = ';';
    k->twin_err[k->twin_err_n++] = ' ';
    room -= 2;
  }
  w = vsnprintf(k->twin_err + k->twin_err_n, room, format, args);
  if (w < 0) return;
  k->twin_err_n += (size_t)w < room ? (size_t)w : room - 1;
}

static const char* twin_errors(faketpu_kernel* k) {
  if (k->twin_err_n == 0) return "no message from TensorFlow Lite";
  k->twin_err[k->twin_err_n < sizeof k->twin_err ? k->twin_err_n
                                                  : sizeof k->twin_err - 1] = '\0';
  return k->twin_err;
}

/* unload_twin frees the twin, so that the next prepare loads it again. */
static void unload_twin(faketpu_kernel* k) {
  if (k->twin != NULL) TfLiteInterpreterDelete(k->twin);
  if (k->options != NULL) TfLiteInterpreterOptionsDelete(k->options);
  if (k->model != NULL) TfLiteModelDelete(k->model);
  k->twin = NULL;
  k->options = NULL;
  k->model = NULL;
}

static void kernel_free(TfLiteContext* context, void* buffer) {
  faketpu_kernel* k = (faketpu_kernel*)buffer;
  (void)context;
  if (k == NULL) return;
  unload_twin(k);
  free(k);
}

static void* kernel_init(TfLiteContext* context, const char* buffer,
                         size_t length) {
  const char* path = getenv("FAKETPU_MODEL");
  faketpu_kernel* k = calloc(1, sizeof *k);
  (void)context;
  (void)buffer;
  (void)length;
  if (k == NULL) return NULL;
  if (path != NULL && path[0] != '\0') {
    snprintf(k->model_path, sizeof k->model_path, "%s", path);
    k->have_model_path = 1;
  }
  count(&faketpu_claimed, 1);
  return k;
}

static void format_dims(const TfLiteIntArray* dims, char* out, size_t n) {
  size_t used = 0;
  int i;
  out[0] = '\0';
  used += (size_t)snprintf(out, n, "[");
  for (i = 0; dims != NULL && i < dims->size && used < n; i++) {
    used += (size_t)snprintf(out + used, n - used, "%s%d", i > 0 ? "," : "",
                             dims->data[i]);
  }
  if (used < n) snprintf(out + used, n - used, "]");
}

static void format_twin_dims(const TfLiteTensor* t, char* out, size_t n) {
  size_t used = 0;
  int i, nd = TfLiteTensorNumDims(t);
  out[0] = '\0';
  used += (size_t)snprintf(out, n, "[");
  for (i = 0; i < nd && used < n; i++) {
    used += (size_t)snprintf(out + used, n - used, "%s%d", i > 0 ? "," : "",
                             TfLiteTensorDim(t, i));
  }
  if (used < n) snprintf(out + used, n - used, "]");
}

/* load_twin creates the twin interpreter; 0 after reporting an error,
 * with nothing left loaded. */
static int load_twin(TfLiteContext* context, faketpu_kernel* k) {
  int i;
  k->twin_err_n = 0;
  if (!k->have_model_path) {
    context->ReportError(context,
                         "faketpu: FAKETPU_MODEL is not set: name the CPU "
                         ".tflite the Edge TPU model was compiled from");
    return 0;
  }
  k->model = TfLiteModelCreateFromFile(k->model_path);
  if (k->model == NULL) {
    context->ReportError(context,
                         "faketpu: cannot read the CPU twin %s (FAKETPU_MODEL)",
                         k->model_path);
    unload_twin(k);
    return 0;
  }
  k->options = TfLiteInterpreterOptionsCreate();
  if (k->options == NULL) {
    context->ReportError(context, "faketpu: TfLiteInterpreterOptionsCreate failed");
    unload_twin(k);
    return 0;
  }
  TfLiteInterpreterOptionsSetNumThreads(k->options, 1);
  TfLiteInterpreterOptionsSetErrorReporter(k->options, twin_report, k);
  k->twin = TfLiteInterpreterCreate(k->model, k->options);
  if (k->twin == NULL) {
    context->ReportError(context,
                         "faketpu: TensorFlow Lite refused the CPU twin %s: %s",
                         k->model_path, twin_errors(k));
    unload_twin(k);
    return 0;
  }
  if (TfLiteInterpreterAllocateTensors(k->twin) != kTfLiteOk) {
    context->ReportError(
        context,
        "faketpu: the CPU twin %s does not run on the CPU (is FAKETPU_MODEL "
        "an Edge TPU model itself?): %s",
        k->model_path, twin_errors(k));
    unload_twin(k);
    return 0;
  }
  k->batchable = 1;
  for (i = 0; i < TfLiteInterpreterGetInputTensorCount(k->twin); i++) {
    const TfLiteTensor* t = TfLiteInterpreterGetInputTensor(k->twin, i);
    if (TfLiteTensorNumDims(t) < 1 || TfLiteTensorDim(t, 0) != 1) k->batchable = 0;
  }
  return 1;
}

static int same_quantization(TfLiteQuantizationParams a,
                             TfLiteQuantizationParams b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

/* check_tensor compares a tensor of the custom op with the twin's; 0 after
 * reporting the first difference other than the batch dimension (dims[0])
 * when allow_batch. */
static int check_tensor(TfLiteContext* context, faketpu_kernel* k,
                        const char* kind, int i, const TfLiteTensor* t,
                        const TfLiteTensor* tw, int allow_batch) {
  char a[96], b[96];
  int d, nd = TfLiteTensorNumDims(tw);
  int same_shape = t->dims != NULL && t->dims->size == nd;
  for (d = 0; same_shape && d < nd; d++) {
    if (d == 0 && allow_batch) continue;
    if (t->dims->data[d] != TfLiteTensorDim(tw, d)) same_shape = 0;
  }
  if (t->type == TfLiteTensorType(tw) && same_shape &&
      same_quantization(t->params, TfLiteTensorQuantizationParams(tw))) {
    return 1;
  }
  format_dims(t->dims, a, sizeof a);
  format_twin_dims(tw, b, sizeof b);
  context->ReportError(
      context,
      "faketpu: %s %d of the edgetpu-custom-op is %s%s scale=%g zp=%d, but the "
      "CPU twin %s has %s%s scale=%g zp=%d: FAKETPU_MODEL must be the "
      "quantised model this Edge TPU model was compiled from",
      kind, i, TfLiteTypeGetName(t->type), a, t->params.scale,
      t->params.zero_point, k->model_path, TfLiteTypeGetName(TfLiteTensorType(tw)),
      b, TfLiteTensorQuantizationParams(tw).scale,
      TfLiteTensorQuantizationParams(tw).zero_point);
  return 0;
}

static TfLiteStatus kernel_prepare(TfLiteContext* context, TfLiteNode* node) {
  faketpu_kernel* k = (faketpu_kernel*)node->user_data;
  int i, nin, nout, resized = 0, batch = -1;
  if (k == NULL) {
    context->ReportError(context, "faketpu: no kernel state (out of memory)");
    return kTfLiteError;
  }
  if (k->twin == NULL && !load_twin(context, k)) return kTfLiteError;
  nin = TfLiteInterpreterGetInputTensorCount(k->twin);
  nout = TfLiteInterpreterGetOutputTensorCount(k->twin);
  if (node->inputs->size != nin || node->outputs->size != nout) {
    context->ReportError(
        context,
        "faketpu: the edgetpu-custom-op has %d inputs and %d outputs, the CPU "
        "twin %s %d and %d: FAKETPU_MODEL must be the model this Edge TPU model "
        "was compiled from, and the whole model must be one edgetpu-custom-op",
        node->inputs->size, node->outputs->size, k->model_path, nin, nout);
    return kTfLiteError;
  }
  k->twin_err_n = 0;
  for (i = 0; i < nin; i++) {
    const TfLiteTensor* t = &context->tensors[node->inputs->data[i]];
    const TfLiteTensor* tw = TfLiteInterpreterGetInputTensor(k->twin, i);
    if (!check_tensor(context, k, "input", i, t, tw, k->batchable)) {
      return kTfLiteError;
    }
    if (t->dims->size > 0) {
      if (batch >= 0 && t->dims->data[0] != batch) {
        context->ReportError(context,
                             "faketpu: inputs of the edgetpu-custom-op have "
                             "batches %d and %d: all must have the same",
                             batch, t->dims->data[0]);
        return kTfLiteError;
      }
      batch = t->dims->data[0];
    }
    if (t->dims->size > 0 && t->dims->data[0] != TfLiteTensorDim(tw, 0)) {
      if (TfLiteInterpreterResizeInputTensor(k->twin, i, t->dims->data,
                                             t->dims->size) != kTfLiteOk) {
        context->ReportError(context,
                             "faketpu: the CPU twin %s cannot take batch %d: %s",
                             k->model_path, t->dims->data[0], twin_errors(k));
        return kTfLiteError;
      }
      resized = 1;
    }
  }
  if (resized && TfLiteInterpreterAllocateTensors(k->twin) != kTfLiteOk) {
    context->ReportError(context, "faketpu: the CPU twin %s cannot take batch %d: %s",
                         k->model_path, batch, twin_errors(k));
    return kTfLiteError;
  }
  for (i = 0; i < nout; i++) {
    TfLiteTensor* t = &context->tensors[node->outputs->data[i]];
    const TfLiteTensor* tw = TfLiteInterpreterGetOutputTensor(k->twin, i);
    int d, nd = TfLiteTensorNumDims(tw), differ = 0;
    if (!check_tensor(context, k, "output", i, t, tw, k->batchable)) {
      return kTfLiteError;
    }
    for (d = 0; d < nd; d++) {
      if (t->dims->data[d] != TfLiteTensorDim(tw, d)) differ = 1;
    }
    if (differ) {
      TfLiteIntArray* dims = TfLiteIntArrayCreate(nd);
      for (d = 0; d < nd; d++) dims->data[d] = TfLiteTensorDim(tw, d);
      if (context->ResizeTensor(context, t, dims) != kTfLiteOk) {
        context->ReportError(context, "faketpu: cannot resize output %d", i);
        return kTfLiteError;
      }
    }
  }
  return kTfLiteOk;
}

/* control_state reads FAKETPU_CONTROL: 0 run, 1 fail, 2 stall, -1 unknown
 * (the content is copied into what). */
static int control_state(const char* path, char* what, size_t n) {
  char buf[64];
  size_t got, b = 0;
  FILE* f;
  what[0] = '\0';
  if (path == NULL || path[0] == '\0') return 0;
  f = fopen(path, "rb");
  if (f == NULL) return 0; /* missing: run */
  got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[got] = '\0';
  while (b < got && isspace((unsigned char)buf[b])) b++;
  while (got > b && isspace((unsigned char)buf[got - 1])) buf[--got] = '\0';
  snprintf(what, n, "%s", buf + b);
  if (what[0] == '\0' || strcmp(what, "ok") == 0) return 0;
  if (strcmp(what, "fail") == 0) return 1;
  if (strcmp(what, "stall") == 0) return 2;
  return -1;
}

static TfLiteStatus kernel_invoke(TfLiteContext* context, TfLiteNode* node) {
  faketpu_kernel* k = (faketpu_kernel*)node->user_data;
  const char* control = getenv("FAKETPU_CONTROL");
  char what[64];
  int i, state, stalled = 0;
  count(&faketpu_invokes, 1);
  if (k == NULL || k->twin == NULL) {
    context->ReportError(context, "faketpu: invoke before a successful prepare");
    return kTfLiteError;
  }
  while ((state = control_state(control, what, sizeof what)) == 2) {
    struct timespec ts = {0, FAKETPU_POLL_NS};
    if (!stalled) {
      stalled = 1;
      count(&faketpu_stalls, 1);
      set_flag(&faketpu_stalling, 1);
    }
    nanosleep(&ts, NULL);
  }
  if (stalled) set_flag(&faketpu_stalling, 0);
  if (state == 1) {
    count(&faketpu_failures, 1);
    /* What libedgetpu's CustomOpInvoke reports when the driver's USB
     * transfer fails because the accelerator is gone (libusb's
     * LIBUSB_TRANSFER_NO_DEVICE is status 5, mapped to Not found). */
    context->ReportError(context,
                         "Failed to execute request. Not found: USB transfer "
                         "error 5 [LibUsbDataOutCallback]");
    return kTfLiteError;
  }
  if (state < 0) {
    context->ReportError(context,
                         "faketpu: FAKETPU_CONTROL %s holds \"%s\": want ok, "
                         "fail or stall",
                         control, what);
    return kTfLiteError;
  }
  for (i = 0; i < node->inputs->size; i++) {
    const TfLiteTensor* t = &context->tensors[node->inputs->data[i]];
    TfLiteTensor* tw = TfLiteInterpreterGetInputTensor(k->twin, i);
    if (TfLiteTensorCopyFromBuffer(tw, t->data.raw_const, t->bytes) != kTfLiteOk) {
      context->ReportError(context,
                           "faketpu: input %d holds %zu bytes, the twin's %zu", i,
                           t->bytes, TfLiteTensorByteSize(tw));
      return kTfLiteError;
    }
  }
  k->twin_err_n = 0;
  if (TfLiteInterpreterInvoke(k->twin) != kTfLiteOk) {
    context->ReportError(context, "faketpu: the CPU twin %s failed: %s",
                         k->model_path, twin_errors(k));
    return kTfLiteError;
  }
  for (i = 0; i < node->outputs->size; i++) {
    TfLiteTensor* t = &context->tensors[node->outputs->data[i]];
    const TfLiteTensor* tw = TfLiteInterpreterGetOutputTensor(k->twin, i);
    if (TfLiteTensorCopyToBuffer(tw, t->data.raw, t->bytes) != kTfLiteOk) {
      context->ReportError(context,
                           "faketpu: output %d holds %zu bytes, the twin's %zu", i,
                           t->bytes, TfLiteTensorByteSize(tw));
      return kTfLiteError;
    }
  }
  return kTfLiteOk;
}

/* ---- the delegate ---- */

typedef struct {
  TfLiteDelegate delegate; /* first: the TfLiteDelegate* is this struct */
  faketpu_dev device;
} faketpu_delegate;

static TfLiteStatus delegate_prepare(TfLiteContext* context,
                                     TfLiteDelegate* delegate) {
  TfLiteIntArray* plan;
  TfLiteIntArray* claim;
  TfLiteRegistration kernel;
  int i, n = 0;
  int* nodes;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk) return kTfLiteError;
  nodes = calloc((size_t)plan->size + 1, sizeof *nodes);
  if (nodes == NULL) return kTfLiteError;
  for (i = 0; i < plan->size; i++) {
    TfLiteNode* node;
    TfLiteRegistration* reg;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &reg) !=
        kTfLiteOk) {
      free(nodes);
      return kTfLiteError;
    }
    if (reg->custom_name != NULL &&
        strcmp(reg->custom_name, FAKETPU_CUSTOM_OP) == 0) {
      nodes[n++] = plan->data[i];
    }
  }
  if (n > 1) {
    /* One twin model stands for one compiled segment. */
    context->ReportError(context,
                         "faketpu: the model has %d edgetpu-custom-op nodes; the "
                         "fake runs one CPU twin (FAKETPU_MODEL), so it emulates "
                         "only models the compiler mapped as one op",
                         n);
    free(nodes);
    return kTfLiteError;
  }
  memset(&kernel, 0, sizeof kernel);
  kernel.init = kernel_init;
  kernel.free = kernel_free;
  kernel.prepare = kernel_prepare;
  kernel.invoke = kernel_invoke;
  kernel.custom_name = FAKETPU_KERNEL_NAME;
  kernel.version = 1;
  for (i = 0; i < n; i++) {
    TfLiteStatus st;
    claim = TfLiteIntArrayCreate(1);
    claim->data[0] = nodes[i];
    st = context->ReplaceNodeSubsetsWithDelegateKernels(context, kernel, claim,
                                                        delegate);
    TfLiteIntArrayFree(claim);
    if (st != kTfLiteOk) {
      free(nodes);
      return st;
    }
  }
  free(nodes);
  return kTfLiteOk;
}

TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values,
                                              size_t n,
                                              void (*report_error)(const char*)) {
  faketpu_dev devs[FAKETPU_MAX_DEVICES];
  char bad[128];
  const char* device = NULL;
  int ndev, pick;
  size_t i;
  faketpu_delegate* d;

  for (i = 0; i < n; i++) {
    if (strcmp(keys[i], "device") == 0) device = values[i];
  }
  ndev = load_devices(devs, bad, sizeof bad);
  if (ndev < 0) {
    say(report_error,
        "faketpu: FAKETPU_DEVICES entry \"%s\" not understood: want usb, pci, "
        "usb:N or pci:N, comma-separated",
        bad);
    return NULL;
  }
  pick = select_by_option(devs, ndev, device);
  if (pick < 0) {
    say(report_error, "faketpu: no Edge TPU matches device \"%s\" (%d present)",
        device != NULL ? device : "", ndev);
    return NULL;
  }
  d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->device = devs[pick];
  d->delegate.data_ = d;
  d->delegate.Prepare = delegate_prepare;
  d->delegate.flags = kTfLiteDelegateFlagsAllowDynamicTensors;
  snprintf(faketpu_device, sizeof faketpu_device, "%s", d->device.path);
  count(&faketpu_created, 1);
  return &d->delegate;
}

void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  if (delegate == NULL) return;
  count(&faketpu_destroyed, 1);
  free(delegate->data_);
}

const char* edgetpu_version(void) {
  const char* v = getenv("FAKETPU_RUNTIME_VERSION");
  return v != NULL ? v : FAKETPU_DEFAULT_VERSION;
}

struct edgetpu_device* edgetpu_list_devices(size_t* num_devices) {
  faketpu_dev devs[FAKETPU_MAX_DEVICES];
  char bad[128];
  struct edgetpu_device* out;
  char* paths;
  int i, n = load_devices(devs, bad, sizeof bad);
  *num_devices = 0;
  if (n <= 0) return NULL;
  /* One allocation, the records then their paths, as libedgetpu does. */
  out = malloc((size_t)n * (sizeof *out + sizeof devs[0].path));
  if (out == NULL) return NULL;
  paths = (char*)(out + n);
  for (i = 0; i < n; i++) {
    char* p = paths + (size_t)i * sizeof devs[0].path;
    memcpy(p, devs[i].path, sizeof devs[0].path);
    out[i].type = devs[i].type;
    out[i].path = p;
  }
  *num_devices = (size_t)n;
  return out;
}

void edgetpu_free_devices(struct edgetpu_device* dev) { free(dev); }
