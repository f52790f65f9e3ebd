"""Authentication, roles, problem responses and the operations endpoints."""

import re


class TestAuth:
    async def test_no_token_is_401_with_a_problem_body(self, admin) -> None:
        response = await admin.as_(None).get("/leads")
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == "/problems/unauthorized"

    async def test_an_unknown_token_is_401(self, admin) -> None:
        assert (await admin.as_("lp_nope").get("/users/me")).status_code == 401

    async def test_a_new_users_token_works_once_shown(self, make_user) -> None:
        user, api = await make_user(role="sales_user", seat="current")
        me = await api.ok("get", "/users/me")
        assert me["id"] == user["id"] and me["role"] == "sales_user" and "token" not in me

    async def test_a_sales_user_cannot_create_users(self, make_user) -> None:
        _, rep = await make_user()
        response = await rep.post(
            "/users", {"email": "x@example.com", "name": "X", "role": "admin"}
        )
        assert response.status_code == 403

    async def test_an_admin_cannot_create_a_super_admin(self, make_user) -> None:
        _, admin_user = await make_user(role="admin")
        response = await admin_user.post(
            "/users", {"email": "s@example.com", "name": "S", "role": "super_admin"}
        )
        assert response.status_code == 403

    async def test_a_duplicate_email_is_a_conflict(self, admin, make_user) -> None:
        user, _ = await make_user()
        response = await admin.post(
            "/users", {"email": user["email"], "name": "Again", "role": "sales_user"}
        )
        assert response.status_code == 409

    async def test_a_service_reads_leads_but_cannot_create_them(self, make_user, make_lead) -> None:
        lead = await make_lead()
        _, service = await make_user(role="service")
        assert (await service.get(f"/leads/{lead['id']}")).status_code == 200
        refused = await service.post("/leads", {"contact_id": lead["contact_id"]})
        assert refused.status_code == 403


class TestOperations:
    async def test_health_and_readiness(self, admin) -> None:
        assert (await admin.get("/healthz")).json() == {"status": "ok"}
        ready = await admin.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {
            "database": "ok",
            "temporal": "ok",
        }

    async def test_metrics_count_requests_by_route(self, admin) -> None:
        await admin.get("/healthz")
        text = (await admin.get("/metrics")).text
        assert 'leadpipe_http_requests_total{method="GET",route="/v1/healthz",status="200"}' in text

    async def test_unknown_paths_are_problem_404s(self, admin) -> None:
        response = await admin.get("/nowhere")
        assert response.status_code == 404 and response.json()["type"] == "/problems/not-found"

    async def test_openapi_documents_every_endpoint_with_problem_responses(self, http) -> None:
        spec = (await http.get("/openapi.json")).json()
        move = spec["paths"]["/v1/leads/{lead_id}/stage"]["post"]
        assert {"401", "403", "404", "409", "422"} <= set(move["responses"])
        assert spec["components"]["schemas"]["StageMoveIn"]["examples"]

    async def test_docs_load_their_assets_from_the_api_itself(self, http) -> None:
        for page in ("/docs", "/redoc"):
            html = (await http.get(page)).text
            scripts = re.findall(r'src="([^"]+\.js)"', html)
            assert scripts and all(src.startswith("/static-offline-docs/") for src in scripts)
            for src in scripts:
                asset = await http.get(src)
                assert asset.status_code == 200 and len(asset.content) > 10_000
        swagger = (await http.get("/docs")).text
        assert "cdn." not in swagger and "/openapi.json" in swagger


class TestRecords:
    async def test_contact_patch_changes_only_what_is_sent(self, admin) -> None:
        contact = await admin.ok(
            "post", "/contacts", {"first_name": "Al", "email": "al@example.com"}, status=201
        )
        patched = await admin.ok(
            "patch", f"/contacts/{contact['id']}", {"lifecycle_stage": "customer"}
        )
        assert patched["lifecycle_stage"] == "customer" and patched["email"] == "al@example.com"

    async def test_bad_lifecycle_stage_is_422(self, admin) -> None:
        response = await admin.post("/contacts", {"lifecycle_stage": "prospect"})
        assert (
            response.status_code == 422
            and response.json()["errors"][0]["field"] == "lifecycle_stage"
        )

    async def test_deal_defaults_to_the_default_pipelines_first_stage(self, admin) -> None:
        deal = await admin.ok("post", "/deals", {"name": "Pilot"}, status=201)
        read = await admin.ok("get", f"/deals/{deal['id']}")
        assert read["stage_id"] == deal["stage_id"] and read["pipeline_id"] == deal["pipeline_id"]
        assert (await admin.post("/deals", {"name": "X", "stage_id": 1})).status_code == 422
