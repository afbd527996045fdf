//! Files published with articles (附件, pictures, video with its captions):
//! more kinds than applicants may upload, each told by its content, never
//! by its name. Office files are ZIP packages whose part names say what
//! they hold; OFD (GB/T 33190, the national layout format) is one too.

use std::io::Cursor;

use crate::files::{FileKind, inspect, safe_name_with};

/// What a published file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Pdf,
    Ofd,
    Docx,
    Xlsx,
    Pptx,
    Jpeg,
    Png,
    Mp4,
    Webm,
    /// WebVTT captions of a video.
    Vtt,
}

impl DocKind {
    pub const ALL: [DocKind; 10] = [
        DocKind::Pdf,
        DocKind::Ofd,
        DocKind::Docx,
        DocKind::Xlsx,
        DocKind::Pptx,
        DocKind::Jpeg,
        DocKind::Png,
        DocKind::Mp4,
        DocKind::Webm,
        DocKind::Vtt,
    ];

    pub fn content_type(self) -> &'static str {
        match self {
            DocKind::Pdf => "application/pdf",
            DocKind::Ofd => "application/ofd",
            DocKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            DocKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            DocKind::Jpeg => "image/jpeg",
            DocKind::Png => "image/png",
            DocKind::Mp4 => "video/mp4",
            DocKind::Webm => "video/webm",
            DocKind::Vtt => "text/vtt",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            DocKind::Pdf => "pdf",
            DocKind::Ofd => "ofd",
            DocKind::Docx => "docx",
            DocKind::Xlsx => "xlsx",
            DocKind::Pptx => "pptx",
            DocKind::Jpeg => "jpg",
            DocKind::Png => "png",
            DocKind::Mp4 => "mp4",
            DocKind::Webm => "webm",
            DocKind::Vtt => "vtt",
        }
    }

    /// The short name people know it by (PDF, Word, Excel …).
    pub fn label(self) -> &'static str {
        match self {
            DocKind::Pdf => "PDF",
            DocKind::Ofd => "OFD",
            DocKind::Docx => "Word",
            DocKind::Xlsx => "Excel",
            DocKind::Pptx => "PPT",
            DocKind::Jpeg => "JPG",
            DocKind::Png => "PNG",
            DocKind::Mp4 => "MP4",
            DocKind::Webm => "WebM",
            DocKind::Vtt => "WebVTT",
        }
    }

    pub fn from_content_type(t: &str) -> Option<Self> {
        DocKind::ALL.into_iter().find(|k| k.content_type() == t)
    }

    pub fn is_image(self) -> bool {
        matches!(self, DocKind::Jpeg | DocKind::Png)
    }

    pub fn is_video(self) -> bool {
        matches!(self, DocKind::Mp4 | DocKind::Webm)
    }
}

/// What a published file really is, or `None`: a PDF must parse, an image
/// decode, an office file or OFD be a ZIP package with its main part, a
/// video carry its container's signature, captions start with `WEBVTT`.
pub fn inspect_document(body: &[u8]) -> Option<DocKind> {
    if let Some(k) = inspect_scan(body) {
        return Some(k);
    }
    if body.starts_with(b"PK\x03\x04") {
        let archive = zip::ZipArchive::new(Cursor::new(body)).ok()?;
        let has = |name: &str| archive.file_names().any(|n| n.is_ok_and(|n| n == name));
        let office = has("[Content_Types].xml");
        return if office && has("word/document.xml") {
            Some(DocKind::Docx)
        } else if office && has("xl/workbook.xml") {
            Some(DocKind::Xlsx)
        } else if office && has("ppt/presentation.xml") {
            Some(DocKind::Pptx)
        } else if has("OFD.xml") {
            Some(DocKind::Ofd)
        } else {
            None
        };
    }
    if body.len() > 12 && &body[4..8] == b"ftyp" {
        return Some(DocKind::Mp4);
    }
    if body.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(DocKind::Webm);
    }
    let text = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    if text.starts_with(b"WEBVTT")
        && text
            .get(6)
            .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        && std::str::from_utf8(text).is_ok()
    {
        return Some(DocKind::Vtt);
    }
    None
}

fn inspect_scan(body: &[u8]) -> Option<DocKind> {
    Some(match inspect(body)? {
        FileKind::Pdf => DocKind::Pdf,
        FileKind::Jpeg => DocKind::Jpeg,
        FileKind::Png => DocKind::Png,
    })
}

/// The name to offer a published file under (see [`crate::files::safe_file_name`]).
pub fn document_name(original: &str, kind: DocKind) -> String {
    safe_name_with(original, kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn package(parts: &[&str]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            for p in parts {
                zip.start_file(*p, opts).expect("part");
                zip.write_all(b"<x/>").expect("write");
            }
            zip.finish().expect("finish");
        }
        out.into_inner()
    }

    #[test]
    fn office_files_and_ofd_are_told_by_their_parts() {
        let docx = package(&["[Content_Types].xml", "word/document.xml"]);
        let xlsx = package(&["[Content_Types].xml", "xl/workbook.xml"]);
        let ofd = package(&["OFD.xml", "Doc_0/Document.xml"]);
        assert_eq!(inspect_document(&docx), Some(DocKind::Docx));
        assert_eq!(inspect_document(&xlsx), Some(DocKind::Xlsx));
        assert_eq!(inspect_document(&ofd), Some(DocKind::Ofd));
        // Any other ZIP (a program, a bundle of anything) is refused.
        assert_eq!(inspect_document(&package(&["setup.exe"])), None);
        assert_eq!(inspect_document(b"PK\x03\x04 broken"), None);
    }

    #[test]
    fn real_office_files_pass() {
        let xlsx = include_bytes!("../../zhiban-testing/fixtures/budget.xlsx");
        let docx = include_bytes!("../../zhiban-testing/fixtures/form.docx");
        let vtt = include_bytes!("../../zhiban-testing/fixtures/captions.vtt");
        assert_eq!(inspect_document(xlsx), Some(DocKind::Xlsx));
        assert_eq!(inspect_document(docx), Some(DocKind::Docx));
        assert_eq!(inspect_document(vtt), Some(DocKind::Vtt));
        assert_eq!(DocKind::Xlsx.label(), "Excel");
    }

    #[test]
    fn media_captions_and_lookalikes() {
        assert_eq!(
            inspect_document(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"),
            Some(DocKind::Mp4)
        );
        assert_eq!(
            inspect_document(b"WEBVTT\n\n00:00.000 --> 00:02.000\n\xe8\xad\xa6\xe6\x83\x85\n"),
            Some(DocKind::Vtt)
        );
        assert_eq!(inspect_document(b"WEBVTTX"), None);
        assert_eq!(inspect_document(b"<script>alert(1)</script>"), None);
        assert_eq!(inspect_document(b"MZ\x90\0"), None);
        assert_eq!(
            document_name("C:\\材料\\2025年度报告.exe", DocKind::Pdf),
            "2025年度报告.pdf"
        );
    }
}
