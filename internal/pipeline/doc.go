// Package pipeline turns camera frames into classified items: the part
// of the agent between capture and publish (design.md §1).
//
// # Flow
//
//	capture ──Submit──> queue ──> batch ──> Classifier ──> items ──> Sink
//	 (camera          (bounded,   (≤ BatchSize,  (one per      (mean or   (MQTT, stdout,
//	  goroutine)       drop oldest) BatchTimeout) worker)       vote)      Actuator, Fanout)
//
// The camera's goroutine calls Submit, which never blocks on the
// pipeline. Run starts one worker per Classifier (infer.workers
// interpreters); each Classifier is used by its worker only. One worker at
// a time assembles a micro-batch from the queue while the others
// classify; the batch's frames are released as soon as their Classify
// call returns, and their scores go to their items.
//
// # Drop rule
//
// The queue holds at most Options.Queue frames that no worker has taken
// yet. When a frame arrives and it is full, the oldest queued frame is
// dropped: released at once and counted in Stats.Skipped (published as
// "skipped"). Fresh frames are worth more than old ones on a conveyor,
// and the camera is never slowed by a slow model or broker.
//
// # Flush rule
//
// A batch runs when it holds Options.BatchSize frames, or when its oldest
// frame has waited Options.BatchTimeout since Submit, whichever comes
// first (nvstreammux's batch-size and batched-push-timeout). A zero
// BatchTimeout runs whatever is queued at once. During shutdown batches
// run without waiting.
//
// # Items
//
// Frames with the same (Camera, Item) form one item of Frame.ItemFrames
// frames (the ItemFrames of its first frame counts). The item is
// complete when each of its frames was classified, dropped or failed;
// then its result is produced at once. Aggregation is "mean" (the mean
// of the frames' score vectors ranks the classes) or "vote" (each frame
// votes for its best class; most votes wins, ties broken by mean score,
// then by lower class index). Score is the winner's mean score; below
// Options.Threshold the Label becomes Options.Unknown and Index -1.
//
// An item that is still missing frames while none of its frames is
// queued or being classified (a frame was lost before Submit, say) waits
// Options.ItemTimeout for the next one, by default 4×BatchTimeout but at
// least 250 ms, and is then produced with the frames it has (Frames <
// ItemFrames, counted in Stats.Incomplete). A frame of an item that was
// already produced is late: it is skipped. An item none of whose frames
// could be classified produces no result (Stats.Lost).
//
// # Results
//
// Results go to the Sink one at a time, in Seq order: Seq counts from 1
// per Pipeline without gaps, in the order results are produced (not the
// order items were captured), so a consumer can tell it missed one. A
// Result's times:
//
//   - Captured: the capture time of the item's first frame (the camera's
//     clock, with its monotonic reading);
//   - Done: when the result was produced, just before Send;
//   - Done − Captured: capture→result latency: queueing, batching,
//     inference and waiting for the item's other frames;
//   - Inference: model time of this item: for each of its frames, the
//     duration of its batch's Classify call (preprocessing included)
//     divided by the frames in that batch, summed.
//
// Result.Top's backing array is reused after Send returns; sinks that
// keep results use Result.Clone.
//
// # Shutdown
//
// Close, or cancelling Run's context, stops intake (later frames are
// released and skipped), runs the queued frames, waits for the batches in
// flight, produces every item that has classified frames, complete or
// not, and returns. The sink's context stays live during this drain.
//
// # Allocation
//
// In steady state a frame allocates nothing in the pipeline: the queue is
// a ring, batches and items are reused, statistics are fixed-size
// (percentiles over the last 512 samples, rates in one-second buckets).
// What the Classifier allocates (infer's results) is its own.
//
// # Actuation
//
// Actuator is a Sink that pulses periph.io GPIO outputs for chosen labels,
// Delay after the item's capture (the belt's travel time from camera to
// gate), for Pulse, honouring ActiveLow; overlapping pulses on one pin
// merge into one. Fanout sends each result to several sinks (publish,
// stdout, actuator).
package pipeline
