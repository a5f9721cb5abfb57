/* odlc runtime: continual learning with latent replay. The replay buffer (class-balanced
 * reservoir sampling over stored latents, fp32 or uint8), and model_learn's loop: shuffled
 * minibatches mixing new samples with replayed latents, then the buffer update. The generated
 * code supplies the model-specific parts (the frozen prefix and the training step) through an
 * odlc_learner descriptor; every buffer is static and sized by the compiler. */
#ifndef ODLC_LEARN_H
#define ODLC_LEARN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes of the learning API (negative, nothing changed when returned). */
#define ODLC_ERR_NULL (-1)      /* a NULL pointer */
#define ODLC_ERR_COUNT (-2)     /* n (or epochs) out of range */
#define ODLC_ERR_LABEL (-3)     /* a label outside [0, classes) */
#define ODLC_ERR_NONFINITE (-4) /* a NaN or infinite input */

typedef struct {
  int32_t capacity;    /* latents the buffer holds */
  int32_t latent_size; /* floats per latent */
  int32_t num_classes;
  float *data_f32;     /* capacity * latent_size, or NULL when stored as uint8 */
  uint8_t *data_u8;    /* capacity * latent_size, or NULL when stored as float */
  float *scale;        /* per slot, uint8 only: value = scale * q + offset */
  float *offset;
  int32_t *labels;     /* per slot */
  int32_t *stored;     /* per class: slots holding it */
  int32_t *seen;       /* per class: samples ever offered */
  int32_t count;       /* slots in use */
  uint32_t rng;        /* random state (xorshift32, never 0) */
  /* Flash-resident storage: latents are written only through `write` (e.g. a flash driver's
   * program function), uint8 ones staged in `stage` (latent_size bytes) first. NULL: RAM. */
  void (*write)(void *dst, const void *src, size_t bytes);
  uint8_t *stage;
} odlc_replay;

/* Empties the buffer and seeds its random state. */
void odlc_replay_reset(odlc_replay *r, uint32_t seed);
/* Offers one latent to the buffer by class-balanced reservoir sampling (odlc_learn.c). */
void odlc_replay_offer(odlc_replay *r, const float *latent, int32_t label);
/* Writes slot's latent (dequantized) to out. */
void odlc_replay_load(const odlc_replay *r, int32_t slot, float *out);
/* Uniform integer in [0, bound) from the buffer's random state. */
uint32_t odlc_replay_random(odlc_replay *r, uint32_t bound);

/* Dynamic channel selection (--channel-policy velocity; NEq, seed 004): per sparse layer, the
 * output channels a step trains (`selected`, read by the kernels) are re-chosen at the end of
 * every epoch of odlc_learn as the |O| channels whose outputs move fastest. A channel's
 * signature is its spatial mean output on each of the first `probes` new samples of the
 * experience, recorded as those samples pass through the training forward; phi is the cosine
 * similarity of the signature with the previous epoch's, and velocity = (phi - phi_prev) -
 * mu * velocity_prev. Velocities exist from the third epoch of an experience; until then the
 * selection stays. Then |O| - |O| / 4 channels are the fastest (ties: the lower channel) and
 * |O| / 4 explore: the next channels not among them in cyclic order from `cursor`. A channel
 * that never trains has no velocity of its own (its output moves only through earlier layers),
 * so without exploration the first choice would stay for ever. Every array is static, sized
 * by odlc. */
typedef struct {
  int32_t channels;  /* output channels C */
  int32_t count;     /* channels a step trains, |O| */
  int32_t plane;     /* output elements per channel and sample (1 for Gemm) */
  int32_t *selected; /* count, ascending: the layer's O, shared with its kernels */
  float *signature;  /* probes * channels: this epoch */
  float *previous;   /* probes * channels: the epoch before */
  float *phi;        /* channels: 1 - phi (computed without cancellation) */
  float *velocity;   /* channels */
  int32_t cursor;    /* next channel to explore */
} odlc_velocity_layer;

typedef struct {
  int32_t num_layers;
  int32_t probes;          /* capacity: probe samples per experience */
  odlc_velocity_layer *layers;
  int32_t *probe_of_row;   /* batch: probe index of each row of the step's batch, or -1 */
  int32_t active_probes;   /* min(n, probes) in the current experience */
  int32_t epochs;          /* epochs ended in the current experience */
  float mu;                /* momentum of the velocity (NEq's mu_eq) */
} odlc_velocity;

/* Forgets the signatures (a new experience with n new samples); the selection stays. */
void odlc_velocity_begin(odlc_velocity *v, int32_t n);
/* Records rows 0..n-1 of layer's output y [n][channels][plane] for the rows that are probes. */
void odlc_velocity_observe_f32(odlc_velocity *v, int32_t layer, const float *y, int32_t n);
/* End of an epoch: velocities, and from the third epoch a new selection per layer. */
void odlc_velocity_epoch_end(odlc_velocity *v);

typedef struct {
  int32_t batch;            /* samples per training step */
  int32_t replay_per_batch; /* replayed latents per step once the buffer holds any */
  int32_t input_size;       /* floats per input sample */
  int32_t latent_size;      /* floats per latent (prefix output) */
  int32_t num_classes;
  int32_t class_weighted;   /* 1: inverse-frequency class weights in the loss */
  void (*prefix)(const float *input, float *latent);
  float (*train)(const int32_t *labels, int32_t n, const float *class_weight);
  float *latents;           /* batch * latent_size: the training step's input batch */
  int32_t *labels;          /* batch: the training step's labels */
  float *class_weight;      /* num_classes */
  int32_t *class_count;     /* num_classes: scratch */
  odlc_replay *replay;
  float *cache;             /* cache_capacity * latent_size: latents of the new samples */
  int32_t cache_capacity;   /* experiences of up to this many samples run the prefix once */
  odlc_velocity *velocity;  /* --channel-policy velocity, or NULL */
} odlc_learner;

/* Checks a learning call's arguments without changing anything: 0 or an ODLC_ERR_* code. */
int odlc_check_samples(const odlc_learner *l, const float *inputs, const int32_t *labels,
                       int32_t n, int32_t max_n);

/* One training step on n samples (1 <= n <= batch): prefix per sample, then the step. Returns
 * 0 or an error code; *loss receives the step's loss. */
int odlc_train_step(const odlc_learner *l, const float *inputs, const int32_t *labels, int32_t n,
                    float *loss);

/* One continual-learning experience: `epochs` passes over the n new samples in shuffled
 * minibatches of (batch - replay_per_batch) new samples plus replay_per_batch replayed
 * latents, then every new sample is offered to the replay buffer. When n fits the latent
 * cache, the frozen prefix runs once per sample; otherwise once per sample and epoch. */
int odlc_learn(const odlc_learner *l, const float *inputs, const int32_t *labels, int32_t n,
               int32_t epochs, float *loss);

/* Offers n samples to the replay buffer without training (e.g. to seed it with the classes the
 * model was pretrained on). */
int odlc_remember(const odlc_learner *l, const float *inputs, const int32_t *labels, int32_t n);

#ifdef __cplusplus
}
#endif

#endif /* ODLC_LEARN_H */
