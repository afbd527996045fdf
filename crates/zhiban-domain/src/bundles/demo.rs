//! The demo city's 一件事 bundles (演示数据), built from its catalog items
//! the way a 政务服务中心 would: the document everything else needs comes
//! first, the rest in parallel, optional items behind a question.

use super::{BundleInput, repo};
use crate::catalog::Status;
use crate::{Db, DomainError};

/// (code, name, audience, summary, questions, items).
const BUNDLES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "birth",
        "新生儿出生一件事",
        "person",
        "一次填报，同步办理出生医学证明、出生登记（报户口）、新生儿医保参保和社会保障卡申领，可选办理预防接种证。出生医学证明签发后，其余事项同时开始办理。",
        "yb|是否为新生儿办理城乡居民医保参保|是/否\nsbk|是否同时申领社会保障卡|是/否\njzz|是否同时办理预防接种证|是/否",
        "500000-WJ-0001-01|1||出生医学证明/新生儿居民户口簿或出生医学证明\n500000-GA-HZ-0004-01|2\n500000-YB-0001-03|2|yb=是\n500000-RS-0001-01|2|sbk=是\n500000-WJ-0002-01|2|jzz=是",
    ),
    (
        "company",
        "企业开办一件事",
        "company",
        "一表填报营业执照、公章刻制、新办纳税人税务登记和发票申领；招用员工的，同时办理社保和住房公积金单位登记。营业执照核发后，其余事项并联办理。",
        "fp|是否需要申领发票|是/否\nyg|是否招用员工|是/否",
        "500000-SJ-0002-01|1||营业执照/营业执照信息\n500000-GA-ZA-0005-01|2\n500000-SWJ-0004-01|2\n500000-SWJ-0001-01|2|fp=是\n500000-RS-0004-06|2|yg=是\n500000-GJJ-0003-01|2|yg=是",
    ),
    (
        "retire",
        "退休一件事",
        "person",
        "达到法定退休年龄的职工，一次申请基本养老保险待遇（退休），同时办理住房公积金退休提取和社会保险个人权益记录打印。",
        "gjj|是否缴存过住房公积金|是/否",
        "500000-RS-0004-01|1\n500000-GJJ-0001-04|1|gjj=是\n500000-RS-0012-01|1",
    ),
    (
        "death",
        "身后一件事",
        "person",
        "亲人离世后，一次办理死亡注销户口、丧葬补助金和遗属抚恤金申领、住房公积金提取以及不动产继承登记，不再逐个部门跑。户口注销后，其余事项并联办理。",
        "fx|逝者是否有依靠其生活的直系亲属|是/否\ngjj|逝者是否缴存过住房公积金|是/否\nbdc|是否需要办理房产继承|是/否",
        "500000-GA-HZ-0005-01|1\n500000-RS-0005-01|2\n500000-RS-0005-02|2|fx=是\n500000-GJJ-0001-06|2|gjj=是\n500000-BDC-0002-03|2|bdc=是",
    ),
    (
        "newcar",
        "新车上牌一件事",
        "person",
        "购买新车后，一次申请车船税缴纳、机动车注册登记和检验合格标志核发，号牌和行驶证可邮寄到家。车船税缴纳后办理注册登记，注册登记核发的行驶证直接用于核发检验合格标志。",
        "",
        "500000-SWJ-0005-01|1\n500000-GA-JXJ-0003-01|2||机动车行驶证\n500000-GA-JXJ-0005-01|3",
    ),
    (
        "jobless",
        "失业一件事",
        "person",
        "失业后一次办理失业登记、失业保险金申领和住房公积金离职提取，失业登记完成后其余事项同时办理。",
        "gjj|是否提取住房公积金|是/否",
        "500000-RS-0002-02|1\n500000-RS-0003-01|2\n500000-GJJ-0001-05|2|gjj=是",
    ),
    (
        "school",
        "入学一件事",
        "person",
        "孩子上小学一年级，一次办理义务教育入学登记和预防接种证查验；随迁子女同时提交入学申请。",
        "sq|孩子是否为随迁子女（户籍不在本市）|是/否",
        "500000-JW-0001-01|1|sq=否\n500000-JW-0001-03|1|sq=是\n500000-WJ-0002-03|1",
    ),
];

/// Loads the demo bundles, published, where none exist yet.
pub async fn load(db: &Db) -> Result<(), DomainError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bundles")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(());
    }
    for (i, (code, name, audience, summary, questions, items)) in BUNDLES.iter().enumerate() {
        let input = BundleInput {
            code: (*code).into(),
            name: (*name).into(),
            summary: (*summary).into(),
            audience: (*audience).into(),
            questions: (*questions).into(),
            items: (*items).into(),
            position: i.to_string(),
        };
        let parsed = input.parse().map_err(DomainError::Invalid)?;
        repo::store(
            db,
            crate::demo::DEMO_ACTOR,
            None,
            &parsed,
            Status::Published,
        )
        .await?;
    }
    Ok(())
}
