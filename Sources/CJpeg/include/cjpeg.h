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

/// Encodes interleaved rows of `channels` (1 = gray, 3 = RGB) at `quality` (1...100). On success `*out`
/// holds `*out_size` bytes that the caller frees with `cjpeg_free`.
int cjpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                 size_t *out_size, char *message, size_t message_capacity);

void cjpeg_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
