#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "cjpeg.h"

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char text[JMSG_LENGTH_MAX];
} error_manager;

static void fail(j_common_ptr info) {
  error_manager *errors = (error_manager *)info->err;
  (*info->err->format_message)(info, errors->text);
  longjmp(errors->jump, 1);
}

// Keeps the first warning instead of printing it; the caller turns it into an error.
static void keep_message(j_common_ptr info) {
  error_manager *errors = (error_manager *)info->err;
  if (errors->text[0] == 0) (*info->err->format_message)(info, errors->text);
}

static void install(error_manager *errors) {
  jpeg_std_error(&errors->base);
  errors->base.error_exit = fail;
  errors->base.output_message = keep_message;
  errors->text[0] = 0;
}

static void copy_message(const char *prefix, const char *text, char *message, size_t capacity) {
  if (message && capacity > 0) snprintf(message, capacity, "%s%s", prefix, text);
}

int cjpeg_decode_rgb(const uint8_t *data, size_t size, uint8_t *pixels, size_t capacity, int *width, int *height,
                     char *message, size_t message_capacity) {
  struct jpeg_decompress_struct info;
  error_manager errors;
  install(&errors);
  info.err = &errors.base;
  *width = 0;
  *height = 0;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    copy_message("", errors.text, message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_create_decompress(&info);
  if (size == 0) {
    jpeg_destroy_decompress(&info);
    copy_message("", "empty file", message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_mem_src(&info, (unsigned char *)data, (unsigned long)size);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = JCS_RGB;
  *width = (int)info.image_width;
  *height = (int)info.image_height;
  if ((size_t)info.image_width * info.image_height * 3 > capacity) {
    jpeg_destroy_decompress(&info);
    return CJPEG_TOO_SMALL;
  }
  jpeg_start_decompress(&info);
  const size_t stride = (size_t)info.output_width * info.output_components;
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels + (size_t)info.output_scanline * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  const long warnings = errors.base.num_warnings;
  jpeg_destroy_decompress(&info);
  if (warnings > 0) {
    copy_message("corrupt JPEG data: ", errors.text, message, message_capacity);
    return CJPEG_ERROR;
  }
  return CJPEG_OK;
}

int cjpeg_read_size(const uint8_t *data, size_t size, int *width, int *height, char *message, size_t message_capacity) {
  struct jpeg_decompress_struct info;
  error_manager errors;
  install(&errors);
  info.err = &errors.base;
  *width = 0;
  *height = 0;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    copy_message("", errors.text, message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_create_decompress(&info);
  if (size == 0) {
    jpeg_destroy_decompress(&info);
    copy_message("", "empty file", message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_mem_src(&info, (unsigned char *)data, (unsigned long)size);
  jpeg_read_header(&info, TRUE);
  *width = (int)info.image_width;
  *height = (int)info.image_height;
  jpeg_destroy_decompress(&info);
  return CJPEG_OK;
}

// Adobe's CMYK JPEGs hold inverted ink values: the colour is (c * k, m * k, y * k) / 255.
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixels) {
  for (size_t p = 0; p < pixels; p++) {
    const unsigned k = cmyk[4 * p + 3];
    rgb[3 * p] = (uint8_t)((cmyk[4 * p] * k + 127) / 255);
    rgb[3 * p + 1] = (uint8_t)((cmyk[4 * p + 1] * k + 127) / 255);
    rgb[3 * p + 2] = (uint8_t)((cmyk[4 * p + 2] * k + 127) / 255);
  }
}

int cjpeg_decode_region(const uint8_t *data, size_t size, int scale_num, int left, int top, int columns, int rows,
                        uint8_t *pixels, char *message, size_t message_capacity) {
  struct jpeg_decompress_struct info;
  error_manager errors;
  install(&errors);
  info.err = &errors.base;
  uint8_t *volatile line = NULL;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    free(line);
    copy_message("", errors.text, message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_create_decompress(&info);
  if (size == 0) {
    jpeg_destroy_decompress(&info);
    copy_message("", "empty file", message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_mem_src(&info, (unsigned char *)data, (unsigned long)size);
  jpeg_read_header(&info, TRUE);
  const int cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  info.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  info.scale_num = (unsigned)scale_num;
  info.scale_denom = 8;
  jpeg_calc_output_dimensions(&info);
  if (scale_num < 1 || scale_num > 16 || left < 0 || top < 0 || columns < 1 || rows < 1 ||
      (JDIMENSION)(left + columns) > info.output_width || (JDIMENSION)(top + rows) > info.output_height) {
    char text[160];
    snprintf(text, sizeof text, "region %dx%d at (%d, %d) lies outside the %ux%u image scaled by %d/8", columns, rows, left,
             top, info.output_width, info.output_height, scale_num);
    jpeg_destroy_decompress(&info);
    copy_message("", text, message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_start_decompress(&info);
  // The window widened by one iMCU column on each side: libjpeg upsamples the chroma of a cropped row as if
  // the crop's edges were the image's, so the pixels next to them would differ from a full decode's.
  const JDIMENSION margin = (JDIMENSION)(info.max_h_samp_factor * info.min_DCT_scaled_size);
  JDIMENSION x = (JDIMENSION)left > margin ? (JDIMENSION)left - margin : 0;
  JDIMENSION end = (JDIMENSION)(left + columns) + margin;
  if (end > info.output_width) end = info.output_width;
  JDIMENSION width = end - x;
  // Aligns the window to whole iMCU columns (x moves left, width grows); a full-width window stays as it is.
  if (width < info.output_width) jpeg_crop_scanline(&info, &x, &width);
  const size_t components = (size_t)info.output_components;
  line = malloc((size_t)width * components);
  if (!line) {
    jpeg_destroy_decompress(&info);
    copy_message("", "out of memory", message, message_capacity);
    return CJPEG_ERROR;
  }
  if (top > 0) jpeg_skip_scanlines(&info, (JDIMENSION)top);
  const size_t skip = (size_t)left - x;
  for (int row = 0; row < rows; row++) {
    JSAMPROW target = line;
    jpeg_read_scanlines(&info, &target, 1);
    uint8_t *out = pixels + (size_t)row * columns * 3;
    if (cmyk) {
      cmyk_to_rgb(line + skip * 4, out, (size_t)columns);
    } else {
      memcpy(out, line + skip * 3, (size_t)columns * 3);
    }
  }
  const long warnings = errors.base.num_warnings;
  // The rows below the window are never decoded: destroying the decompressor ends it in any state.
  jpeg_destroy_decompress(&info);
  free(line);
  if (warnings > 0) {
    copy_message("corrupt JPEG data: ", errors.text, message, message_capacity);
    return CJPEG_ERROR;
  }
  return CJPEG_OK;
}

int cjpeg_scaled_size(int width, int height, int scale_num, int *scaled_width, int *scaled_height) {
  // jdiv_round_up, as jpeg_calc_output_dimensions computes it
  *scaled_width = (int)(((long)width * scale_num + 7) / 8);
  *scaled_height = (int)(((long)height * scale_num + 7) / 8);
  return CJPEG_OK;
}

int cjpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                 size_t *out_size, char *message, size_t message_capacity) {
  *out = NULL;
  *out_size = 0;
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3) || quality < 1 || quality > 100) {
    copy_message("", "invalid size, channel count (1 or 3) or quality (1...100)", message, message_capacity);
    return CJPEG_ERROR;
  }
  struct jpeg_compress_struct info;
  error_manager errors;
  install(&errors);
  info.err = &errors.base;
  unsigned char *buffer = NULL;
  unsigned long length = 0;
  if (setjmp(errors.jump)) {
    // Not freeing the destination buffer: libjpeg may have reallocated it; this path only follows
    // an internal libjpeg failure, the arguments having been checked above.
    jpeg_destroy_compress(&info);
    copy_message("", errors.text, message, message_capacity);
    return CJPEG_ERROR;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, &buffer, &length);
  info.image_width = (JDIMENSION)width;
  info.image_height = (JDIMENSION)height;
  info.input_components = channels;
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  const size_t stride = (size_t)width * channels;
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * stride);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  *out = buffer;
  *out_size = (size_t)length;
  return CJPEG_OK;
}

void cjpeg_free(void *buffer) { free(buffer); }
