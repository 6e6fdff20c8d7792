/*
 * xml.h - reads the small XML documents S3 and GCS answer with.
 *
 * The parser calls back once per element end with the element's path
 * from the root ("ListPartsResult/Part/ETag") and its text content.  That
 * is all the S3 answers need: flat records under a known root.  Entities
 * are decoded by expat; DTDs and external entities are refused, so a
 * hostile server cannot make ferry read files or expand entities.
 */
#ifndef FERRY_XML_H
#define FERRY_XML_H

#include <stddef.h>

/*
 * Called at the end of each element.  path and text are borrowed and
 * valid only during the call.  Return non-zero to stop parsing.
 */
typedef int (*ferry_xml_fn)(void *ud, const char *path, const char *text);

/* Parses doc[0..len).  Returns 0, or -1 on malformed XML. */
int ferry_xml_parse(const char *doc, size_t len, ferry_xml_fn fn, void *ud);

/*
 * The name of the root element of doc into out (at most outlen - 1
 * chars); "" if doc is not XML.
 */
void ferry_xml_root(char *out, size_t outlen, const char *doc, size_t len);

/* Escapes &, <, >, " and ' of s for element text. */
struct ferry_buf;
void ferry_xml_escape(struct ferry_buf *out, const char *s);

#endif
