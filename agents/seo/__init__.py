"""SEO analysis the SEOAgent and ContentAgent share: text statistics, page audits, keyword research."""
