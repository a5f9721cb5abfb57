/* A stand-in for an odlc-generated model.h, for testing check_model.c itself (e2e.sh harness). */
#ifndef MODEL_H
#define MODEL_H

#define MODEL_INPUT_SIZE 4
#define MODEL_OUTPUT_SIZE 3
#define MODEL_NUM_CLASSES 3

int model_init(void);
int model_infer(const float *input, float *output);

#endif /* MODEL_H */
