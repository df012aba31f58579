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
