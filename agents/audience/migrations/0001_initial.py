"""Contacts, lists and inbound messages move here from the triggers app: state only.

Their tables were created by ``triggers.0001_initial`` and keep their names, so nothing in the
database changes; ``triggers.0002`` removes them from the triggers app's state.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('triggers', '0001_initial'),
        ('connectors', '0003_outbox_purpose'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Contact',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('name', models.CharField(blank=True, default='', max_length=200)),
                        ('email', models.CharField(blank=True, default='', max_length=254)),
                        ('phone', models.CharField(blank=True, default='', max_length=16)),
                        ('timezone', models.CharField(blank=True, default='', max_length=64)),
                        ('tags', models.JSONField(blank=True, default=list)),
                        ('consent', models.JSONField(blank=True, default=dict)),
                        ('attributes', models.JSONField(blank=True, default=dict)),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contacts', to='core.organization')),
                    ],
                    options={
                        'db_table': 'triggers_contact',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ContactList',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('name', models.CharField(max_length=100)),
                        ('description', models.CharField(blank=True, default='', max_length=300)),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contact_lists', to='core.organization')),
                    ],
                    options={
                        'db_table': 'triggers_contactlist',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ContactListMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('added_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='audience.contact')),
                        ('contact_list', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='audience.contactlist')),
                    ],
                    options={
                        'db_table': 'triggers_contactlistmembership',
                    },
                ),
                migrations.AddField(
                    model_name='contactlist',
                    name='contacts',
                    field=models.ManyToManyField(related_name='lists', through='audience.ContactListMembership', to='audience.contact'),
                ),
                migrations.CreateModel(
                    name='InboundMessage',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('channel', models.CharField(max_length=16)),
                        ('address', models.CharField(max_length=254)),
                        ('provider_id', models.CharField(blank=True, default='', max_length=64)),
                        ('body', models.TextField(blank=True, default='')),
                        ('connector', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='connectors.connector')),
                        ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound', to='audience.contact')),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.organization')),
                    ],
                    options={
                        'db_table': 'triggers_inboundmessage',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['organization', '-created_at', '-id'], name='contact_org_created'),
                ),
                migrations.AddConstraint(
                    model_name='contact',
                    constraint=models.UniqueConstraint(condition=models.Q(('phone', ''), _negated=True), fields=('organization', 'phone'), name='contact_unique_org_phone'),
                ),
                migrations.AddConstraint(
                    model_name='contact',
                    constraint=models.UniqueConstraint(condition=models.Q(('email', ''), _negated=True), fields=('organization', 'email'), name='contact_unique_org_email'),
                ),
                migrations.AddIndex(
                    model_name='contactlistmembership',
                    index=models.Index(fields=['contact_list', 'id'], name='listmember_list_id'),
                ),
                migrations.AddConstraint(
                    model_name='contactlistmembership',
                    constraint=models.UniqueConstraint(fields=('contact_list', 'contact'), name='membership_unique_list_contact'),
                ),
                migrations.AddConstraint(
                    model_name='contactlist',
                    constraint=models.UniqueConstraint(fields=('organization', 'name'), name='contactlist_unique_org_name'),
                ),
                migrations.AddIndex(
                    model_name='inboundmessage',
                    index=models.Index(fields=['organization', 'channel', 'address', '-created_at'], name='inbound_org_address'),
                ),
            ],
        ),
    ]
