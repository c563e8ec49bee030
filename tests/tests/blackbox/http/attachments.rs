//! Files attached to changes across an upgrade: a database written before uploads
//! recorded their contract (issue 20) keeps every change's attachments downloadable,
//! and a file no change listed must be uploaded again for a contract before one lists it.

use serde_json::{Value, json};

use super::app::{TestApp, on_every_backend};

async fn upload(app: &TestApp, token: &str, contract: &str, content: &str) -> Value {
    let answer = app
        .client
        .post(format!(
            "{}/v1/attachments?contract_id={contract}&name=f.txt",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(content.to_owned())
        .send()
        .await
        .unwrap();
    TestApp::read(answer).await.expect(201)
}

fn form(file: &Value) -> Value {
    json!({"asset": "vm-1", "catalogue": "Catalogue de Changement Standard",
           "category": "Quotas", "article": "Modifier mes quotas",
           "lead_time": "standard", "attachments": [file]})
}

async fn download(app: &TestApp, change: &str, file: &Value, token: &str) -> u16 {
    let sha = file["sha256"].as_str().unwrap();
    app.client
        .get(format!(
            "{}/v1/changes/{change}/attachments/{sha}",
            app.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The schema and rows as the release before issue 20 left them: files without owners,
/// migration 0012 not applied.
const BEFORE_ISSUE_20: &str = "DROP TABLE attachment_uploads; \
     DROP INDEX idempotency_keys_by_age; \
     DELETE FROM _sqlx_migrations WHERE version = 12;";

#[tokio::test]
async fn issue_20_files_uploaded_before_ownership_go_to_the_contracts_whose_changes_list_them() {
    on_every_backend(|mut app| async move {
        let backend = app.backend();
        app.contract("OCB0000811", "Gold", "alma.before").await;
        app.contract("OCB0000812", "Gold", "boris.before").await;
        let alma = app.token("alma.before", "customer").await;
        let boris = app.token("boris.before", "customer").await;
        let listed = upload(&app, &alma, "OCB0000811", "listed by a change of A").await;
        let drafted = upload(&app, &alma, "OCB0000811", "listed by a draft of A").await;
        let unlisted = upload(&app, &boris, "OCB0000812", "listed by nothing").await;
        let submitted = app
            .post(
                "/v1/changes",
                &alma,
                json!({"contract_id": "OCB0000811", "submit": true, "form": form(&listed)}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let draft = app
            .post(
                "/v1/changes",
                &alma,
                json!({"contract_id": "OCB0000811", "submit": false, "form": {"asset": "vm-2"}}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.put(&format!("/v1/changes/{draft}/draft"), &alma, form(&drafted))
            .await
            .expect(200);

        app.stop_server().await;
        app.execute(BEFORE_ISSUE_20).await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM attachment_blobs").await,
            3,
            "{backend}"
        );
        app.db
            .database
            .migrate()
            .await
            .expect("the upgrade migrates");
        app.restart_server().await;

        // Every change keeps its attachments: a submission's and an edited draft's.
        assert_eq!(
            download(&app, &submitted, &listed, &alma).await,
            200,
            "{backend}"
        );
        assert_eq!(
            download(&app, &draft, &drafted, &alma).await,
            200,
            "{backend}"
        );
        app.post(&format!("/v1/changes/{draft}/submit"), &alma, json!({}))
            .await
            .expect(200);
        // A file no change listed belongs to nobody until uploaded again for a contract.
        let on_b = json!({"contract_id": "OCB0000812", "submit": true, "form": form(&unlisted)});
        let refused = app
            .post("/v1/changes", &boris, on_b.clone())
            .await
            .problem(422);
        assert_eq!(refused["field"], "attachments[0].sha256", "{backend}");
        upload(&app, &boris, "OCB0000812", "listed by nothing").await;
        app.post("/v1/changes", &boris, on_b).await.expect(201);
        // Files listed on A are A's only.
        let on_b = json!({"contract_id": "OCB0000812", "submit": true, "form": form(&listed)});
        app.post("/v1/changes", &boris, on_b).await.problem(422);
        app
    })
    .await;
}
