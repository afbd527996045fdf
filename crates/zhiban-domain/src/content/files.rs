//! Files published with an article: attachments (PDF, OFD, Word, Excel,
//! PPT) shown with their type and size, pictures with the alt text they
//! need, and videos with their captions (WebVTT) and a description.
//!
//! A file belongs to versions: it is added with the version saved with it
//! and removed by a later one. Citizens see the files of the approved
//! version; editors change the working copy's; a rollback brings back the
//! files of the version restored.

use serde::Serialize;
use sha2::{Digest, Sha256};
use zhiban_store::documents::{DocKind, document_name, inspect_document};
use zhiban_store::files::FileStore;

use crate::catalog::enums::vocabulary;
use crate::{Db, DomainError, FieldError, Tx};

vocabulary!(
    /// What a file is to its article.
    FileRole {
        Attachment => "attachment", "附件";
        Image => "image", "图片";
        Video => "video", "视频";
        Captions => "captions", "字幕";
    }
);

impl FileRole {
    /// The kinds a file in this role may be.
    pub fn accepts(self, kind: DocKind) -> bool {
        match self {
            FileRole::Attachment => matches!(
                kind,
                DocKind::Pdf | DocKind::Ofd | DocKind::Docx | DocKind::Xlsx | DocKind::Pptx
            ),
            FileRole::Image => kind.is_image(),
            FileRole::Video => kind.is_video(),
            FileRole::Captions => kind == DocKind::Vtt,
        }
    }

    /// The editor's input a new file of this role comes from (errors link to it).
    pub fn input(self) -> &'static str {
        match self {
            FileRole::Attachment => "new_attachment",
            FileRole::Image => "new_image",
            FileRole::Video => "new_video",
            FileRole::Captions => "new_captions",
        }
    }
}

/// `[content]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ContentSettings {
    /// The largest attachment or picture, in megabytes.
    pub max_file_mb: u64,
    /// The largest video, in megabytes.
    pub max_video_mb: u64,
    /// An optional model drafting interpretations (`llm_url`, `llm_model`,
    /// `llm_key_env`).
    #[serde(flatten)]
    pub llm: super::drafting::LlmSettings,
}

impl Default for ContentSettings {
    fn default() -> Self {
        ContentSettings {
            max_file_mb: 50,
            max_video_mb: 100,
            llm: super::drafting::LlmSettings::default(),
        }
    }
}

impl ContentSettings {
    fn limit_mb(&self, role: FileRole) -> u64 {
        match role {
            FileRole::Video => self.max_video_mb.max(1),
            _ => self.max_file_mb.max(1),
        }
    }
    /// The most any one upload may be: larger parts are dropped as they stream in.
    pub fn max_upload_bytes(&self) -> usize {
        let mb = self.max_file_mb.max(self.max_video_mb).max(1);
        usize::try_from(mb * 1024 * 1024).unwrap_or(usize::MAX)
    }
}

/// Most files one article may carry.
pub const MAX_FILES: usize = 30;
/// Longest alt text or caption.
pub const ALT_MAX: usize = 300;

/// A stored file of an article.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ArticleFile {
    pub id: i64,
    pub article_id: i64,
    pub role: String,
    pub parent_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub alt: String,
    pub added_in: i64,
    pub removed_in: i64,
}

impl ArticleFile {
    pub fn role(&self) -> Option<FileRole> {
        FileRole::from_slug(&self.role)
    }
    /// PDF, Word, Excel …
    pub fn type_label(&self) -> &'static str {
        DocKind::from_content_type(&self.content_type).map_or("", DocKind::label)
    }
    /// Shown inline (pictures, video, captions); everything else downloads.
    pub fn inline(&self) -> bool {
        self.role() != Some(FileRole::Attachment)
    }
    /// Present in version `v`.
    pub fn in_version(&self, v: i64) -> bool {
        self.added_in <= v && (self.removed_in == 0 || self.removed_in > v)
    }
}

/// A file posted with a save, as received.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub role: FileRole,
    /// The browser's name (untrusted; only a cleaned stem is kept).
    pub file_name: String,
    pub body: Vec<u8>,
    /// Over the size limit: dropped while it streamed in.
    pub too_large: bool,
    /// Alt text of a picture, the description of a video.
    pub alt: String,
    /// A video's WebVTT captions.
    pub captions: Option<Box<NewFile>>,
}

/// The file changes of one save.
#[derive(Debug, Clone, Default)]
pub struct FileChanges {
    pub added: Vec<NewFile>,
    /// Ids of the working copy's files to remove.
    pub removed: Vec<i64>,
}

impl FileChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Where new files go, and the limits they are held to.
pub struct Attach<'a> {
    pub store: &'a FileStore,
    pub settings: &'a ContentSettings,
    pub changes: FileChanges,
}

/// A new file that passed its checks, with what it really is.
pub(super) struct Checked<'a> {
    file: &'a NewFile,
    kind: DocKind,
    captions: Option<(&'a NewFile, DocKind)>,
}

/// Checks every new file: size, what it really is against its role, the
/// alt text a picture needs, the captions and description a video needs.
/// Every problem comes back at once; nothing is stored.
pub(super) fn check<'a>(
    changes: &'a FileChanges,
    settings: &ContentSettings,
    existing: usize,
) -> (Vec<Checked<'a>>, Vec<FieldError>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    let one = |f: &NewFile, role: FileRole, errors: &mut Vec<FieldError>| -> Option<DocKind> {
        let limit = settings.limit_mb(role);
        let too_big = f.too_large || f.body.len() as u64 > limit * 1024 * 1024;
        if too_big {
            errors.push(FieldError::new(
                role.input(),
                "attachment_too_large",
                limit.to_string(),
            ));
            return None;
        }
        if f.body.is_empty() {
            errors.push(FieldError::new(role.input(), "attachment_empty", ""));
            return None;
        }
        match inspect_document(&f.body) {
            Some(k) if role.accepts(k) => Some(k),
            _ => {
                errors.push(FieldError::new(
                    role.input(),
                    "attachment_type",
                    f.file_name.chars().take(80).collect::<String>(),
                ));
                None
            }
        }
    };
    for f in &changes.added {
        let kind = one(f, f.role, &mut errors);
        let alt = f.alt.trim();
        let needs_alt = matches!(f.role, FileRole::Image | FileRole::Video);
        if needs_alt && alt.is_empty() {
            errors.push(FieldError::new(
                if f.role == FileRole::Image {
                    "new_image_alt"
                } else {
                    "new_video_alt"
                },
                "required",
                "",
            ));
        } else if alt.chars().count() > ALT_MAX {
            errors.push(FieldError::new(
                if f.role == FileRole::Image {
                    "new_image_alt"
                } else {
                    "new_video_alt"
                },
                "too_long",
                ALT_MAX.to_string(),
            ));
        }
        let captions = match (&f.captions, f.role) {
            (Some(c), FileRole::Video) => {
                one(c, FileRole::Captions, &mut errors).map(|k| (&**c, k))
            }
            (None, FileRole::Video) => {
                errors.push(FieldError::new("new_captions", "required", ""));
                None
            }
            _ => None,
        };
        if let Some(kind) = kind {
            ok.push(Checked {
                file: f,
                kind,
                captions,
            });
        }
    }
    let added: usize = changes
        .added
        .iter()
        .map(|f| 1 + usize::from(f.captions.is_some()))
        .sum();
    if existing.saturating_sub(changes.removed.len()) + added > MAX_FILES {
        errors.push(FieldError::new(
            "new_attachment",
            "attachment_count",
            MAX_FILES.to_string(),
        ));
    }
    (ok, errors)
}

/// A body put into the file store, not yet recorded.
pub(super) struct Stored {
    role: FileRole,
    name: String,
    kind: DocKind,
    size: i64,
    sha256: String,
    key: String,
    alt: String,
    /// Index (in the stored list) of the video these captions belong to.
    parent: Option<usize>,
}

/// Puts the checked bodies into the file store. On a failure, what was
/// put is taken out again.
pub(super) async fn put(
    store: &FileStore,
    checked: &[Checked<'_>],
) -> Result<Vec<Stored>, DomainError> {
    let mut out: Vec<Stored> = Vec::new();
    for c in checked {
        let mut parts = vec![(c.file, c.kind, None)];
        if let Some((cap, kind)) = c.captions {
            parts.push((cap, kind, Some(out.len())));
        }
        for (f, kind, parent) in parts {
            let key = format!("content/{}", uuid::Uuid::new_v4().simple());
            if let Err(e) = store.put(&key, f.body.clone()).await {
                forget(store, &out).await;
                return Err(DomainError::Files(e.to_string()));
            }
            out.push(Stored {
                role: if parent.is_some() {
                    FileRole::Captions
                } else {
                    f.role
                },
                name: document_name(&f.file_name, kind),
                kind,
                size: i64::try_from(f.body.len()).unwrap_or(i64::MAX),
                sha256: hex::encode(Sha256::digest(&f.body)),
                key,
                alt: f.alt.trim().to_string(),
                parent,
            });
        }
    }
    Ok(out)
}

/// Takes stored bodies out again (their rows were never written).
pub(super) async fn forget(store: &FileStore, stored: &[Stored]) {
    for s in stored {
        let _ = store.delete(&s.key).await;
    }
}

/// Records the stored files as part of `version`, and removes the files
/// asked for from it on.
pub(super) async fn record(
    tx: &mut Tx,
    article_id: i64,
    version: i64,
    stored: &[Stored],
    removed: &[i64],
    by: &str,
) -> Result<(), DomainError> {
    let now = tx.now().timestamp();
    for id in removed {
        sqlx::query(
            "UPDATE article_files SET removed_in = $3 \
             WHERE article_id = $1 AND (id = $2 OR parent_id = $2) AND removed_in = 0",
        )
        .bind(article_id)
        .bind(id)
        .bind(version)
        .execute(&mut **tx)
        .await?;
    }
    let mut position: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) FROM article_files WHERE article_id = $1",
    )
    .bind(article_id)
    .fetch_one(&mut **tx)
    .await?;
    let mut ids: Vec<i64> = Vec::new();
    for s in stored {
        position += 1;
        let parent = s.parent.and_then(|i| ids.get(i).copied());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO article_files (article_id, role, parent_id, added_in, file_name, \
             content_type, size, sha256, storage_key, alt, position, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(article_id)
        .bind(s.role.slug())
        .bind(parent)
        .bind(version)
        .bind(&s.name)
        .bind(s.kind.content_type())
        .bind(s.size)
        .bind(&s.sha256)
        .bind(&s.key)
        .bind(&s.alt)
        .bind(position)
        .bind(by)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        ids.push(id);
    }
    Ok(())
}

/// Makes the files of `from` the files of `version` (a rollback): files
/// the old version did not have are removed, files it had that were
/// removed since come back (as rows of the new version, same bodies).
pub(super) async fn restore(
    tx: &mut Tx,
    article_id: i64,
    from: i64,
    version: i64,
) -> Result<(), DomainError> {
    let all = of_article(tx, article_id).await?;
    for f in &all {
        let wanted = f.in_version(from);
        let present = f.removed_in == 0;
        if present && !wanted {
            sqlx::query("UPDATE article_files SET removed_in = $2 WHERE id = $1")
                .bind(f.id)
                .bind(version)
                .execute(&mut **tx)
                .await?;
        }
    }
    // Bring back what the old version had and is gone now (videos first,
    // so their captions find them).
    let mut back: Vec<&ArticleFile> = all
        .iter()
        .filter(|f| f.in_version(from) && f.removed_in != 0)
        .collect();
    back.sort_by_key(|f| (f.parent_id.is_some(), f.id));
    let mut renamed: Vec<(i64, i64)> = Vec::new();
    for f in back {
        let parent = f
            .parent_id
            .map(|p| renamed.iter().find(|(o, _)| *o == p).map_or(p, |(_, n)| *n));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO article_files (article_id, role, parent_id, added_in, file_name, \
             content_type, size, sha256, storage_key, alt, position, added_by, added_at) \
             SELECT article_id, role, $3, $2, file_name, content_type, size, sha256, \
             storage_key, alt, position, added_by, added_at FROM article_files WHERE id = $1 \
             RETURNING id",
        )
        .bind(f.id)
        .bind(version)
        .bind(parent)
        .fetch_one(&mut **tx)
        .await?;
        renamed.push((f.id, id));
    }
    Ok(())
}

const SELECT: &str = "SELECT id, article_id, role, parent_id, file_name, content_type, size, \
    sha256, storage_key, alt, added_in, removed_in FROM article_files";

async fn of_article(
    conn: &mut sqlx::AnyConnection,
    article_id: i64,
) -> Result<Vec<ArticleFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE article_id = $1 ORDER BY position, id"
    )))
    .bind(article_id)
    .fetch_all(conn)
    .await?)
}

/// The files of an article's working copy.
pub async fn working(db: &Db, article_id: i64) -> Result<Vec<ArticleFile>, DomainError> {
    let mut conn = db.pool().acquire().await?;
    Ok(of_article(&mut conn, article_id)
        .await?
        .into_iter()
        .filter(|f| f.removed_in == 0)
        .collect())
}

/// The files of version `version` (what citizens see of the approved one).
pub async fn of_version(
    db: &Db,
    article_id: i64,
    version: i64,
) -> Result<Vec<ArticleFile>, DomainError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE article_id = $1 AND added_in <= $2 AND (removed_in = 0 OR removed_in > $2) \
         ORDER BY position, id"
    )))
    .bind(article_id)
    .bind(version)
    .fetch_all(db.pool())
    .await?)
}

/// One file of an article.
pub async fn one(db: &Db, article_id: i64, file_id: i64) -> Result<ArticleFile, DomainError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE article_id = $1 AND id = $2"
    )))
    .bind(article_id)
    .bind(file_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(DomainError::NotFound)
}

/// A stored file's body.
pub async fn body(store: &FileStore, f: &ArticleFile) -> Result<Vec<u8>, DomainError> {
    store
        .get(&f.storage_key)
        .await
        .map_err(|e| DomainError::Files(e.to_string()))
}

/// The files of a version as (role, file name, alt) lines, for the diff.
pub fn describe(files: &[ArticleFile], version: i64) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.in_version(version))
        .map(|f| {
            let role = f.role().map_or("", FileRole::label);
            if f.alt.is_empty() {
                format!("{role}：{}", f.file_name)
            } else {
                format!("{role}：{}（{}）", f.file_name, f.alt)
            }
        })
        .collect()
}

/// Every file of an article, removed ones too (for the diff of versions).
pub async fn all_of(db: &Db, article_id: i64) -> Result<Vec<ArticleFile>, DomainError> {
    let mut conn = db.pool().acquire().await?;
    of_article(&mut conn, article_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(role: FileRole, body: &[u8], alt: &str) -> NewFile {
        NewFile {
            role,
            file_name: "x".into(),
            body: body.to_vec(),
            too_large: false,
            alt: alt.into(),
            captions: None,
        }
    }

    fn codes(changes: &FileChanges) -> Vec<(&'static str, &'static str)> {
        check(changes, &ContentSettings::default(), 0)
            .1
            .iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    const PNG: &[u8] = include_bytes!("../../../zhiban-testing/fixtures/photo.png");
    const PDF: &[u8] = include_bytes!("../../../zhiban-testing/fixtures/scan.pdf");

    #[test]
    fn a_picture_needs_alt_text_and_must_be_a_picture() {
        let c = FileChanges {
            added: vec![file(FileRole::Image, PNG, " ")],
            ..FileChanges::default()
        };
        assert_eq!(codes(&c), vec![("new_image_alt", "required")]);
        let c = FileChanges {
            added: vec![file(FileRole::Image, PDF, "嫌疑人照片")],
            ..FileChanges::default()
        };
        assert_eq!(codes(&c), vec![("new_image", "attachment_type")]);
        let c = FileChanges {
            added: vec![file(FileRole::Image, PNG, "嫌疑人正面照片")],
            ..FileChanges::default()
        };
        assert!(codes(&c).is_empty());
    }

    #[test]
    fn an_oversized_upload_is_refused_with_the_limit() {
        let mut big = file(FileRole::Attachment, b"", "");
        big.too_large = true;
        let (_, errors) = check(
            &FileChanges {
                added: vec![big],
                ..FileChanges::default()
            },
            &ContentSettings::default(),
            0,
        );
        assert_eq!(
            (errors[0].field, errors[0].code, errors[0].detail.as_str()),
            ("new_attachment", "attachment_too_large", "50")
        );
    }

    #[test]
    fn a_video_needs_captions_and_a_description() {
        let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
        let c = FileChanges {
            added: vec![file(FileRole::Video, mp4, "")],
            ..FileChanges::default()
        };
        assert_eq!(
            codes(&c),
            vec![("new_video_alt", "required"), ("new_captions", "required")]
        );
        let mut v = file(FileRole::Video, mp4, "民警讲解防范电信诈骗");
        v.captions = Some(Box::new(file(
            FileRole::Captions,
            b"WEBVTT\n\n00:00.000 --> 00:03.000\nhello\n",
            "",
        )));
        let c = FileChanges {
            added: vec![v],
            ..FileChanges::default()
        };
        assert!(codes(&c).is_empty());
    }

    #[test]
    fn versions_decide_which_files_belong() {
        let f = ArticleFile {
            id: 1,
            article_id: 1,
            role: "attachment".into(),
            parent_id: None,
            file_name: "a.pdf".into(),
            content_type: "application/pdf".into(),
            size: 1,
            sha256: String::new(),
            storage_key: String::new(),
            alt: String::new(),
            added_in: 2,
            removed_in: 4,
        };
        assert!(!f.in_version(1));
        assert!(f.in_version(2) && f.in_version(3));
        assert!(!f.in_version(4));
        assert_eq!(f.type_label(), "PDF");
        assert!(!f.inline());
    }
}
