//! The shell of the console: top bar, sandbox banner, and one route per page.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::components::{SandboxBanner, TopBar};
use crate::pages::{
    AccountPage, ApiDocsPage, AuditPage, ClusterPage, ClustersPage, InstancesPage, LaunchedPage,
    LoginPage, NotFoundPage, RunPage, RunsPage, WizardPage,
};
use crate::{api, session};

#[component]
pub fn App() -> impl IntoView {
    let health = api::resource(api::health);
    session::provide();
    view! {
        <Router>
            <TopBar />
            <SandboxBanner health />
            <main class="page">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=|| view! { <Redirect path="/instances" /> } />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/instances") view=InstancesPage />
                    <Route path=path!("/wizard") view=|| view! { <Redirect path="/wizard/ami" /> } />
                    <Route path=path!("/wizard/:step") view=WizardPage />
                    <Route path=path!("/launched") view=LaunchedPage />
                    <Route path=path!("/clusters") view=ClustersPage />
                    <Route path=path!("/clusters/:name") view=ClusterPage />
                    <Route path=path!("/runs") view=RunsPage />
                    <Route path=path!("/audit") view=AuditPage />
                    <Route path=path!("/api-docs") view=ApiDocsPage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/runs/:id") view=RunPage />
                </Routes>
            </main>
        </Router>
    }
}
