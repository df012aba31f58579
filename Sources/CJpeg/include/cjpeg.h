// JPEG decoding and encoding over libjpeg(-turbo), with libjpeg's fatal errors turned into return codes
// (its default handler calls exit()) and its warnings (corrupt or truncated data) reported as errors.
#ifndef CJPEG_H
#define CJPEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  CJPEG_OK = 0,
  /// The data is not a valid JPEG; `message` says why.
  CJPEG_ERROR = 1,
  /// The image does not fit `capacity` bytes; `width` and `height` are set.
  CJPEG_TOO_SMALL = 2,
};

/// Decodes `size` bytes of JPEG into `pixels` as interleaved RGB rows (grayscale is expanded to RGB).
/// `width` and `height` receive the image size in every case where the header could be read.
int cjpeg_decode_rgb(const uint8_t *data, size_t size, uint8_t *pixels, size_t capacity, int *width, int *height,
                     char *message, size_t message_capacity);

/// Reads the header only: the image's `width` and `height`.
int cjpeg_read_size(const uint8_t *data, size_t size, int *width, int *height, char *message, size_t message_capacity);

/// Decodes the window of `columns` x `rows` pixels at (`left`, `top`) of the image scaled by `scale_num`/8
/// (libjpeg's DCT scaling, 1...16) into `pixels` (interleaved RGB, `columns * rows * 3` bytes). Only the
/// window's rows are decoded (the rows above are skipped) and only its iMCU columns: where the window is
/// smaller than the image, this is much faster than a full decode. CMYK images are converted to RGB.
int cjpeg_decode_region(const uint8_t *data, size_t size, int scale_num, int left, int top, int columns, int rows,
                        uint8_t *pixels, char *message, size_t message_capacity);

/// The size of a `width` x `height` image decoded at `scale_num`/8 (as libjpeg rounds it: up).
int cjpeg_scaled_size(int width, int height, int scale_num, int *scaled_width, int *scaled_height);

/// Encodes interleaved rows of `channels` (1 = gray, 3 = RGB) at `quality` (1...100). On success `*out`
/// holds `*out_size` bytes that the caller frees with `cjpeg_free`.
int cjpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                 size_t *out_size, char *message, size_t message_capacity);

void cjpeg_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
